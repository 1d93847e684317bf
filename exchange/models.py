"""Every table of the platform on one metadata: import this before migrating or comparing."""

from catalog.models import Base  # noqa: F401  (owns the metadata)
import catalog.models  # noqa: F401
import exchange.accounts.models  # noqa: F401
import exchange.audit.models  # noqa: F401
import exchange.demands.models  # noqa: F401
import exchange.sharing.models  # noqa: F401
import exchange.notifications.models  # noqa: F401
import exchange.freshness.models  # noqa: F401
import exchange.runs  # noqa: F401  (job runs)
import exchange.dashboards.models  # noqa: F401
import exchange.synonyms.models  # noqa: F401
import exchange.scheduler  # noqa: F401  (job leases)

metadata = Base.metadata
