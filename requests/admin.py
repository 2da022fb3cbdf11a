"""The requests area's admin, one module per part so each can grow on its own."""

from requests import (
    admin_demands,  # noqa: F401
    admin_dsr,  # noqa: F401
)
