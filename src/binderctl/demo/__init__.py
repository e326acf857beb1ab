"""The demo world: emulators of the Hetzner Cloud API, the Kubernetes API, SSH to the node
and BinderHub's HTTP endpoints, with a simulated member behind them."""

DEMO_SPEED = 5.0  # simulated time in an interactive demo: things happen while you watch
