"""Policies behind one Policy protocol: SB3 agents, baselines, bandits, oracles; training, evaluation."""
