"""A Kubernetes API server emulator and the object store behind it.

How the pieces fit (everything runs on one asyncio loop, see ``demo/runtime.py``):

- ``Store`` (store.py) holds the objects; ``types.py`` names the resource types.
- ``KubeAPIServer`` (server.py) serves the store over HTTPS with client-certificate
  auth like k3s: ``await server.start(host, 0)``, ``await server.add_address(node_ip,
  6443)``, ``server.faults`` (latency, ``drop_watches()``, ``compact()``,
  ``await restart()``, ``drop(method, path)`` to lose a request or its answer). Give
  it ``credentials=tls.generate([node_ip])`` when it must answer on a node address,
  and write a kubeconfig with ``kubeconfig.write_kubeconfig``.
  It reads container logs from a ``LogSource`` and usage from a ``MetricsSource``
  (sources.py); ``memlogs.MemoryLogs`` is a LogSource kept in memory.
- ``ControlPlane`` (controllers/plane.py) runs the controllers and the scheduler with a
  ``speed`` factor. The node side (pod phases, container states, Ready) belongs to the
  simulated kubelet (docs/internals.md); the control plane removes a pod once its grace
  period is over, unless the kubelet removed it first.
- ``Registry`` (registry.py) is the API's verbs without HTTP: writing through it
  applies defaults, validation and admission, as a controller writing through the API.
- ``EventRecorder`` (events.py) records events the way client-go does, so simulated
  components' warnings look like a real cluster's, and deletes them an hour after their
  last write, as the API server's ``--event-ttl``. The control plane and the simulated
  member (kubelet, helm-controller) each record through one.
- ``demo/cluster.py`` puts these together (store, control plane, API server, and the
  simulated member with BinderHub's ingress) for the demo's nodes and for the tests.
"""
