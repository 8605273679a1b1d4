"""Policies behind one Policy protocol: SB3 agents, baselines, bandits, oracles; training, evaluation."""

import lazy_loader as _lazy

_EXPORTS = {
    "policy": ["Policy", "SimulatorView", "attach"],
    "sb3_agents": ["SB3Policy", "TrainSettings", "load_model"],
    "baselines": ["BusinessAsUsual", "MyopicPolicy", "NoContactPolicy", "RandomPolicy", "RulePolicy"],
    "training": ["train_agent"],
    "spibb": ["BehaviourPolicy", "SpibbPolicy"],
}
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs=_EXPORTS)
