from django.db import models


class HonourKind(models.TextChoices):
    INDIVIDUAL = "individual", "个人"
    COLLECTIVE = "collective", "集体"


class Level(models.TextChoices):
    """How high the awarding body stands, highest first."""

    NATIONAL = "national", "国家级"
    PROVINCIAL = "provincial", "省部级"
    CITY = "city", "市级"
    COUNTY = "county", "区县级"
    SECTOR = "sector", "系统/行业"
    UNIT = "unit", "本单位"


#: The levels the report names one by one (the rest are counted).
HIGHLIGHT_LEVELS = (Level.NATIONAL, Level.PROVINCIAL, Level.CITY)
