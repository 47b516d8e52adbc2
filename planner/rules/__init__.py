"""Domain rules shared by the solver and the checker: seat patterns, driving, distances.

These modules define what the rules *mean* (which seats a pattern allows, how far
two places are); the solver plans with them and the checker verifies plans
against them, each in its own code.
"""
