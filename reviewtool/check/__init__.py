"""`reviewtool check`: the diff model, rule packs, analyzers, the engine and the checklist."""
