"""`watch`: keep Codat converged between merges, driven by Codat's webhooks.

A `Reconciler` (loop.py) does the work, one reconcile at a time, on the engine;
`WebhookEndpoint` (endpoint.py) takes verified deliveries and queues them;
`WatchMetrics` (metrics.py) counts what happened for Prometheus. The web and
metrics dependencies are the `watch` extra, imported only here (extra.py).
"""
