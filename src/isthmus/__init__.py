"""Isthmus keeps a company's CRM and ERP in agreement.

The package is layered (see docs/architecture.md): ``model`` at the bottom, then
``store``, ``protocols`` and ``connectors``, ``match``, ``mapping``, ``queue``, the
``engine`` that alone decides, and ``cli``/``api``/``web`` on top. Imports point down.
"""

__version__ = "0.1.0"
