from __future__ import annotations

from harmonyze_portal import areas


class CustomersConfig(areas.AreaConfig):
    name = "customers"
    verbose_name = "Customers and DPAs"
