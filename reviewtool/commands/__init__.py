"""One module per command: wires fetch -> rebase -> check -> report; never analyses."""
