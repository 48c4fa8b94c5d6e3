"""Leader election for the long-running loop: one replica schedules, a second one waits.

Two kinds, the same three calls (`acquire`, `renew`, `release`, each True when this
replica holds leadership afterwards):

  KubernetesLeader  a `coordination.k8s.io/v1` Lease (the one `zeta k8s render` creates),
                    taken and renewed with optimistic concurrency: a PUT carrying the
                    resourceVersion it read, so of two replicas racing only one succeeds
                    (the other gets 409 Conflict). An expired holder is taken over.
  DatabaseLeader    the database lease zeta already uses per model (zeta_serving/maintenance/
                    lease.py), on a row of its own: no Kubernetes API needed (e.g. with the
                    spinnaker deployer, or outside a cluster).

Holders on different nodes must have clocks that roughly agree (NTP): a lease should
be several times longer than the skew between them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

log = logging.getLogger("zeta.maintenance.leader")

LEADER_ROW = "__leader__"  # the database lease's row (model names are task names, never this)


class DatabaseLeader:
    kind = "database"

    def __init__(self, engine, holder: str, seconds: float, clock=None):
        from zeta_serving.maintenance.clock import SystemClock
        from zeta_serving.maintenance.lease import Lease

        self.holder, self.seconds = holder, seconds
        self._lease = Lease(engine, LEADER_ROW, holder, seconds, clock or SystemClock())

    def acquire(self) -> bool:
        return self._lease.acquire()

    def renew(self) -> bool:
        return self._lease.renew()

    def release(self) -> bool:
        return self._lease.release()

    def holder_of(self) -> str | None:
        found = self._lease.holder_of()
        return found[0] if found else None


class KubernetesLeader:
    kind = "kubernetes"

    def __init__(self, api, namespace: str, name: str, holder: str, seconds: float, *, request_timeout: float = 10):
        from kubernetes import client

        self.coordination = client.CoordinationV1Api(api)
        self.namespace, self.name, self.holder = namespace, name, holder
        self.seconds = max(1, int(seconds))
        self.request_timeout = request_timeout

    def _read(self):
        return self.coordination.read_namespaced_lease(self.name, self.namespace,
                                                       _request_timeout=self.request_timeout)

    def _write(self, lease) -> bool:
        from kubernetes.client.exceptions import ApiException

        try:
            self.coordination.replace_namespaced_lease(self.name, self.namespace, lease,
                                                       _request_timeout=self.request_timeout)
            return True
        except ApiException as exc:
            if exc.status == 409:  # another replica wrote it since we read it
                return False
            raise

    def holder_of(self) -> str | None:
        spec = self._read().spec
        return spec.holder_identity if spec and spec.holder_identity and not _expired(spec) else None

    def acquire(self) -> bool:
        from kubernetes import client

        lease = self._read()
        spec = lease.spec or client.V1LeaseSpec()
        mine = spec.holder_identity == self.holder
        if spec.holder_identity and not mine and not _expired(spec):
            return False
        now = datetime.now(timezone.utc)
        if not mine:
            spec.acquire_time = now
            spec.lease_transitions = (spec.lease_transitions or 0) + (1 if spec.holder_identity else 0)
        spec.holder_identity, spec.lease_duration_seconds, spec.renew_time = self.holder, self.seconds, now
        lease.spec = spec
        return self._write(lease)

    def renew(self) -> bool:
        lease = self._read()
        if not lease.spec or lease.spec.holder_identity != self.holder:
            return False
        lease.spec.renew_time = datetime.now(timezone.utc)
        return self._write(lease)

    def release(self) -> bool:
        lease = self._read()
        if not lease.spec or lease.spec.holder_identity != self.holder:
            return False
        lease.spec.holder_identity = None
        lease.spec.renew_time = None
        lease.spec.acquire_time = None
        return self._write(lease)


def _expired(spec) -> bool:
    if spec.renew_time is None:
        return True
    renewed = spec.renew_time if spec.renew_time.tzinfo else spec.renew_time.replace(tzinfo=timezone.utc)
    return renewed + timedelta(seconds=spec.lease_duration_seconds or 0) < datetime.now(timezone.utc)
