"""Figures and labels for results tables: pure functions of tables, never of the model.

- :mod:`sim.plots.labels`: how a metric is shown, read from the models' KPI registries.
- :mod:`sim.plots.style`: palette, scenario colours, fonts (Agg backend).
- :mod:`sim.plots.figures`: forest plot, dashboard, GP access, end of life, equity, money.
- :mod:`sim.plots.timeseries`: hospital pressure over time.
- :mod:`sim.plots.flows`: Sankey-style patient flows.
- :mod:`sim.plots.tornado`: which assumptions move the headline difference most.

Nothing here imports :mod:`sim.engine` or :mod:`sim.run.replications`, and of
:mod:`sim.models` only the registry (``MODELS``, with each model's KPI registry).
"""
