"""Business Central API v2.0 sandbox: a local ERP speaking BC's OData v4 wire format.

Start it with ``isthmus sandbox business-central`` or build the app with
:func:`isthmus.sandbox.business_central.app.create_app`.
"""
