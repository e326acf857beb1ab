"""The tests' own kit: what every test folder needs, written once.

- ``cli``: the real ``binderctl`` as a subprocess (``run_cli``, ``start_cli``) or in this
  process (``run_main``), and the environment that points it at a home (``cli_env``).
- ``k3s``: an emulated k3s (``binderctl.demo.cluster``'s stacks) running on a loop thread
  of its own, with a kubeconfig for it (``run_stack``).
- ``waiting``: ``wait_for``, polling until something holds (tests wait, they do not time).
- ``worlds``: the options of a quick ``DemoWorld`` (``QUICK``) and reading one
  (``member_of``, ``on_loop``, ``labelled``).
"""
