"""Synthetic people and companies for the demo: plausible, deterministic, never real.

Every value comes from the `random.Random` passed in, so a seed fixes them all. Phone
numbers use the 13x mobile ranges and e-mail addresses the reserved `example` domains;
credit codes follow the GB 32100-2015 shape without being registered codes.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any
from uuid import UUID

CN_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
CN_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉梅"
    "建国志强海燕春梅晓红文斌丹宇浩然子涵欣怡梓萱一诺思远嘉怡俊杰"
)
EN_GIVEN = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Susan",
    "Richard",
    "Jessica",
    "Joseph",
    "Sarah",
    "Thomas",
    "Karen",
    "Charles",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Sandra",
    "Mark",
    "Ashley",
    "Emily",
    "Olivia",
    "Oliver",
    "Amelia",
    "Harry",
    "Isla",
    "George",
    "Ava",
    "Noah",
    "Mia",
]
EN_FAMILY = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Chan",
    "Wong",
    "Lee",
    "Ng",
    "Cheung",
    "Lau",
    "Ho",
]
CITIES = (
    ("北京市", "朝阳区", "BJ-01"),
    ("北京市", "海淀区", "BJ-02"),
    ("上海市", "浦东新区", "SH-01"),
    ("上海市", "徐汇区", "SH-02"),
    ("广州市", "天河区", "GZ-01"),
    ("深圳市", "南山区", "SZ-01"),
)
ROADS = [
    "建国路",
    "中山路",
    "人民路",
    "解放路",
    "世纪大道",
    "长安街",
    "南京路",
    "淮海路",
    "深南大道",
    "天河路",
]
EN_STREETS = ["Queen's Road", "Nathan Road", "Des Voeux Road", "High Street", "King's Road"]
OCCUPATIONS = (
    "engineer",
    "teacher",
    "doctor",
    "civil_servant",
    "business_owner",
    "retired",
    "sales",
    "accountant",
    "student",
    "designer",
)
INDUSTRIES = (
    "logistics",
    "manufacturing",
    "retail",
    "software",
    "construction",
    "catering",
    "healthcare",
    "education",
    "trading",
    "agriculture",
)
CN_TRADES = {
    "logistics": "物流",
    "manufacturing": "制造",
    "retail": "商贸",
    "software": "软件",
    "construction": "建设",
    "catering": "餐饮",
    "healthcare": "医疗",
    "education": "教育",
    "trading": "贸易",
    "agriculture": "农业",
}
CN_BRANDS = [
    "华信",
    "恒通",
    "东方",
    "宏远",
    "金桥",
    "新天地",
    "瑞丰",
    "博雅",
    "星辰",
    "盛世",
    "鼎盛",
    "长城",
    "远航",
    "九州",
]
EN_BRANDS = [
    "Bright",
    "Harbour",
    "Summit",
    "Pearl",
    "Dragon",
    "Lotus",
    "Eastern",
    "Horizon",
    "Crown",
    "Jade",
]
_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uuid_from(rng: random.Random) -> UUID:
    """A version-4 UUID drawn from `rng` (so a seed fixes every id)."""
    return UUID(int=rng.getrandbits(128), version=4)


def weighted(rng: random.Random, options: dict[str, float]) -> str:
    """One of the keys, with the given relative weights."""
    return rng.choices(list(options), weights=list(options.values()))[0]


def individual_profile(rng: random.Random, today: date, index: int) -> dict[str, Any]:
    """An individual's profile: 80 % Chinese names, 20 % English ones."""
    city, district, branch = rng.choice(CITIES)
    chinese = rng.random() < 0.8
    if chinese:
        name = rng.choice(CN_SURNAMES) + "".join(
            rng.choice(CN_GIVEN) for _ in range(rng.randint(1, 2))
        )
        address = f"{city}{district}{rng.choice(ROADS)}{rng.randint(1, 300)}号"
        email = f"cust{index:06d}@example.cn"
    else:
        name = f"{rng.choice(EN_GIVEN)} {rng.choice(EN_FAMILY)}"
        address = f"{rng.randint(1, 200)} {rng.choice(EN_STREETS)}, Hong Kong"
        email = f"{name.split()[0].lower()}.{index:06d}@example.com"
        branch = "HK-01"
    age = int(rng.triangular(20, 88, 42))
    born = today - timedelta(days=age * 365 + rng.randint(0, 364))
    return {
        "name": name,
        "date_of_birth": born,
        "gender": rng.choice(("female", "male")),
        "phone": f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
        "email": email,
        "address": address,
        "occupation": "retired" if age >= 62 else rng.choice(OCCUPATIONS),
        "income_band": weighted(rng, {"low": 3, "middle": 5, "high": 2, "very_high": 0.5}),
        "account_number": f"622202{rng.randint(0, 10**13 - 1):013d}",
        "risk_preference": weighted(
            rng, {"conservative": 4, "balanced": 4, "growth": 2, "aggressive": 1}
        ),
        "branch": branch,
        "language": "zh-CN" if chinese else "en",
    }


def corporate_profile(rng: random.Random, index: int) -> dict[str, Any]:
    """A company's profile: registered name, credit code, size, industry, stage."""
    city, _, branch = rng.choice(CITIES)
    industry = rng.choice(INDUSTRIES)
    if rng.random() < 0.75:
        name = f"{city[:-1]}{rng.choice(CN_BRANDS)}{CN_TRADES[industry]}有限公司"
        representative = rng.choice(CN_SURNAMES) + rng.choice(CN_GIVEN) + rng.choice(CN_GIVEN)
    else:
        name = f"{rng.choice(EN_BRANDS)} {industry.title()} Co., Ltd."
        representative = f"{rng.choice(EN_GIVEN)} {rng.choice(EN_FAMILY)}"
    code = (
        "91"
        + f"{rng.randint(110000, 659999)}"
        + "".join(rng.choice(_CODE_CHARS) for _ in range(10))
    )
    return {
        "name": name,
        "credit_code": code,
        "legal_representative": representative,
        "company_size": weighted(rng, {"micro": 3, "small": 4, "medium": 2, "large": 1}),
        "industry": industry,
        "stage": weighted(rng, {"startup": 2, "growth": 4, "mature": 4, "restructuring": 1}),
        "phone": f"0{rng.randint(10, 99)}{rng.randint(0, 99_999_999):08d}",
        "email": f"finance{index:06d}@example.com",
        "address": f"{city}{rng.choice(ROADS)}{rng.randint(1, 500)}号",
        "branch": branch,
    }
