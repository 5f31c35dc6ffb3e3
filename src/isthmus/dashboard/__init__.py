"""The dashboard: server-rendered pages over the same engine as the API, on the same port."""
