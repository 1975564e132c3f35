"""dunning-connector core: the provider-neutral domain, storage, sync, rules, outbox and jobs.

Nothing in this package knows a provider by name except ``connector.registry``; adapters plug in through the
contract in ``connector.ports``.
"""
