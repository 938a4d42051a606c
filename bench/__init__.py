"""fnreg's benchmarks: ``python -m bench`` runs them all and rewrites ``bench/RESULTS.md``.

One module per figure (``prompt_size``, ``sandbox_calls``, ``apply_action``, ``epoch_latency``,
``registry_scale``, ``resume_cost``, ``sandbox_escapes``), each also runnable alone as
``python -m bench.<module> [--quick]``. ``--quick`` only checks that everything still executes
(tiny sizes, output in ``bench/out/``, no timing is ever asserted).
"""
