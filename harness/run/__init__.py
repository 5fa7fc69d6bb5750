"""Executing runs: plans, designs run one by one, scenario files, targets, embedded servers.

The runner turns a :class:`~harness.run.plan.RunPlan` into the results document
(``results.json``); it prints nothing but progress. Every view of that document lives
in ``reports``. Imports run one way: ``cli`` → ``run`` → ``generators``/``resilience`` →
``gemini``; ``measure`` sits below them all.
"""
