"""Campaign environments: ``CampaignEnv`` (gymnasium), a batched vector env and an SB3 VecEnv.

Importing this package registers ``campaign_sim/Campaign-v0``::

    import gymnasium as gym
    import campaign_sim.envs  # noqa: F401
    env = gym.make("campaign_sim/Campaign-v0")                       # built-in synthetic world
    env = gym.make("campaign_sim/Campaign-v0", world="runs/X/world")  # a fitted world
    vec = gym.make_vec("campaign_sim/Campaign-v0", num_envs=1024, vectorization_mode="vector_entry_point")

Public names load on first use (``lazy_loader``): registering the id imports nothing else.
"""

import lazy_loader as _lazy
from gymnasium.envs.registration import register, registry

ENV_ID = "campaign_sim/Campaign-v0"
_EXPORTS = {
    "campaign_env": ["CampaignEnv"],
    "vector_env": ["VectorCampaignEnv"],
    "sb3_vec_env": ["CampaignVecEnv"],
    "engine": ["CampaignEngine", "EnvSettings"],
    "records": ["INFO_KEYS"],
}
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs=_EXPORTS)
__all__ = [*__all__, "ENV_ID"]

if ENV_ID not in registry:
    register(
        id=ENV_ID,
        entry_point="campaign_sim.envs.campaign_env:CampaignEnv",
        vector_entry_point="campaign_sim.envs.vector_env:VectorCampaignEnv",
        disable_env_checker=False,
    )
