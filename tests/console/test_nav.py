"""The main menu marks the section a page belongs to: the longest menu path the page is under."""
from __future__ import annotations

import pytest

from handlers.console.registry import NavItem
from handlers.console.render import nav_here

NAV = [NavItem("工作台", "/console/", None, 0), NavItem("投诉工单", "/console/tickets", None, 10),
       NavItem("投诉统计", "/console/tickets/stats", None, 11), NavItem("居民", "/console/residents", None, 60)]


@pytest.mark.parametrize("path, expected", [
    ("/console/", "/console/"),
    ("/console/tickets", "/console/tickets"),
    ("/console/tickets/42", "/console/tickets"),
    ("/console/tickets/stats", "/console/tickets/stats"),
    ("/console/tickets/stats/export", "/console/tickets/stats"),
    ("/console/ticketsx", ""),  # a prefix of the text is not a folder
    ("/console/audit", ""),  # the dashboard is not every page's section
])
def test_the_longest_menu_path_above_the_page_is_current(path, expected):
    assert nav_here(NAV, path) == expected
