"""Renderers: the only place that prints or formats. One module per format."""
