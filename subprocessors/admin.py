"""The sub-processor area's admin, one module per part so each can grow on its own."""

from subprocessors import (
    admin_changes,  # noqa: F401
    admin_deliveries,  # noqa: F401
    admin_objections,  # noqa: F401
    admin_signups,  # noqa: F401
    admin_subprocessors,  # noqa: F401
)
