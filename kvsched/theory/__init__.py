"""Competitive-ratio theory (SPEC section 3): A_min's Rayleigh quotient
(:mod:`.rayleigh`), the closed-form bounds (:mod:`.bounds`) and lower-bound instance
families with witness schedules (:mod:`.families`). Import from the submodules."""
