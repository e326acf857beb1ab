"""The demo world: emulators of the Hetzner Cloud API, the Kubernetes API, SSH to the node
and BinderHub's HTTP endpoints, with a simulated member behind them."""

# How many times faster than real time the simulated member runs:
# - in a demo someone watches (the console's ``--demo``, ``binderctl demo``): things happen
#   while you watch;
DEMO_SPEED = 5.0
# - in the world ``binderctl --provision --demo`` makes and removes after its one run:
#   nobody watches it, so helm install jobs, image pulls and readiness go by quickly.
PROVISION_DEMO_SPEED = 20.0
