"""campaign-sim: learn, train and vet CRM campaign policies before launch."""

__version__ = "0.1.0"

# Registers the gymnasium id campaign_sim/Campaign-v0 (as other env packages do); envs/__init__
# imports only gymnasium's registry, the engine loads on gym.make.
from campaign_sim import envs as _envs  # noqa: E402, F401
