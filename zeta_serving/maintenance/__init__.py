"""The self-maintenance loop: evaluate -> retrain -> gate -> build -> verify -> deploy, recorded."""
