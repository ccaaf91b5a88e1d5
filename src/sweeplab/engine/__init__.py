"""Owning one running sweep, in the order a run meets them: ``launch`` (prepare: drift check, plan,
cluster, budget → ``Launch.run``), ``drift``, ``resources`` (the machine and the budget), ``coordinator``
(the loop and its group commits), ``recovery`` (what earlier runs left: dead coordinators' attempts,
trials to match after drift), ``staging`` (the files of trials about to start), ``scheduler`` (which
trial starts next), ``folder`` (lock, events, stored spec) and ``observer`` (the hooks a screen implements)."""
