"""One way to write a date and a time on every staff page (issue 15).

Django's English formats write "Nov. 5, 2026, 7:39 a.m." in lists and change pages while the
portal's own pages, inputs and exports write 2026-11-05: staff read one form everywhere, the
one they type into date inputs. Times carry the legal time zone's abbreviation (T1): the
admin shows every datetime in ``TIME_ZONE``, and "EST" or "EDT" says so.
"""

from __future__ import annotations

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1  # Monday, as T4's working week counts
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
