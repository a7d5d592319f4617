"""General practice as a business: each practice's weighted list, workforce, money, response to
the arrangement, viability and continuity (issue 17).

Each module does one job and holds no SimPy state; :mod:`sim.models.care.services.practices`
runs them once a quarter inside the model, and docs/model.md ("General practice as a
business") describes the mechanisms and their basis.
"""
