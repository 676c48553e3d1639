"""The deploy gate CLI (`mentora-infra`): preview, up + smoke, smoke, destroy, env."""
