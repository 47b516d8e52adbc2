"""Documents for the people who act on a plan: pick-up lists, arrival manifests, wave plans, traces."""
