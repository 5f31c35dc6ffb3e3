"""Connectors: one package per vendor API, all behind the same small interface.

See ``isthmus.connectors.base`` for the interface and ``isthmus.connectors.registry``
for how a connector name in a config file becomes a connector.
"""
