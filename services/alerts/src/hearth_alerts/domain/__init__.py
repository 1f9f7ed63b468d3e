"""The alerts domain: alerts, rotas, escalation policies, notifications (pure Python)."""
