"""Alerts: rules over runs, dead letters, API budgets and reconciliations, delivered by
webhook (Slack-compatible JSON) and email. Each alert fires once and re-arms when its
condition clears."""
