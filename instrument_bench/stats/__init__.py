"""Statistics read from what a run leaves: confidence intervals and paired tests over the test
set's independence units (:mod:`.bootstrap`, :mod:`.leaderboard`), and ranks across datasets
(:mod:`.ranks`). Nothing here fits a model."""
