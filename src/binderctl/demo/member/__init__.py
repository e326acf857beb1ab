"""The simulated member behind the Kubernetes emulator: a single k3s node running BinderHub.

``Member`` (in ``simulation.py``) runs on the emulator's asyncio loop, writes the objects
a real member would have through the shared ``Store`` and reacts to what is done to them
through the API (cordon, HelmChart values, rollout restarts, deleted pods).
"""
