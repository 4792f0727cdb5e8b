"""How amity runs on Prefect: process defaults, task runners, deployments."""
