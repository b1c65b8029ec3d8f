"""Competitive-ratio theory (docs/model.md §7.2, §7.3): A_min's Rayleigh quotient
(:mod:`.rayleigh`), the closed-form ratio bounds (:mod:`.ratios`) and lower-bound instance
families with witness schedules (:mod:`.families`). Import from the submodules."""
