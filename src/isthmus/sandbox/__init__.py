"""Local simulators of vendor APIs: real HTTP servers speaking each vendor's wire format.

A sandbox depends on :mod:`isthmus.model` at most, never on the engine, so it can be run
on its own (``isthmus sandbox <vendor>``) for tests, demos and dry runs of mappings.
"""
