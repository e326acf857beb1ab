"""The demo world: emulators of the Hetzner Cloud API, the Kubernetes API, SSH to the node
and BinderHub's HTTP endpoints, with a simulated member behind them."""
