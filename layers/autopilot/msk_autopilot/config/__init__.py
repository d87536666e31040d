"""Configuration as code: server.properties validation (pure), and the rollout reconciler."""
