"""Campaign environments: ``CampaignEnv`` (gymnasium), a batched vector env and an SB3 VecEnv.

Importing this package registers ``campaign_sim/Campaign-v0``::

    import gymnasium as gym
    import campaign_sim.envs  # noqa: F401
    env = gym.make("campaign_sim/Campaign-v0")                       # built-in synthetic world
    env = gym.make("campaign_sim/Campaign-v0", world="runs/X/world")  # a fitted world
    vec = gym.make_vec("campaign_sim/Campaign-v0", num_envs=1024, vectorization_mode="vector_entry_point")
"""

from gymnasium.envs.registration import register, registry

ENV_ID = "campaign_sim/Campaign-v0"

if ENV_ID not in registry:
    register(
        id=ENV_ID,
        entry_point="campaign_sim.envs.campaign_env:CampaignEnv",
        vector_entry_point="campaign_sim.envs.vector_env:VectorCampaignEnv",
        disable_env_checker=False,
    )
