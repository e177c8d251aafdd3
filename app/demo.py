"""Demo data: a believable Hangzhou for trying the app, and bulk experiences for benchmarks.

Both verbs only add and flush; the CLI command that calls them commits.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app import clock
from app.auth.models import Role, User
from app.auth.services import hash_password
from app.conversations.demo import load_demo_conversations
from app.extensions import db
from app.favourites.demo import load_demo_favourites
from app.insights.demo import load_demo_demand
from app.merchants.models import (
    Business,
    BusinessCategory,
    HoursException,
    OpeningHours,
    Store,
    StoreStaff,
)
from app.offerings.models import Category, Offering, search_text_for
from geo.points import LngLat

TIMEZONE = "Asia/Shanghai"
CURRENCY = "CNY"

RESIDENT_EMAIL, RESIDENT_PASSWORD = "resident@demo.onsite", "demo-resident-pass"
MERCHANT_EMAIL, MERCHANT_PASSWORD = "merchant@demo.onsite", "demo-merchant-pass"
STAFF_EMAIL, STAFF_PASSWORD = "staff@demo.onsite", "demo-staff-pass"
BULK_OWNER_EMAIL = "bulk-owner@demo.onsite"
DEMO_BUSINESS_NAME = "Onsite Demo Studio 示范工作室"
# Matches merchant@demo.onsite and the generated merchant01@demo.onsite …, not the bulk owner.
DEMO_MERCHANT_PATTERN = "merchant%@demo.onsite"

# The city: 60 businesses, 120 stores, 400 experiences including the demo studio's.
CITY_BUSINESSES = 59
CITY_STORES = 118
CITY_OFFERINGS = 394

HANGZHOU = LngLat(lng=120.16, lat=30.25)
BULK_HALF_SIDE_M = 15_000  # the bulk data fills a 30 km square around HANGZHOU
METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class District:
    cn: str
    en: str
    area_cn: str  # the administrative district, for addresses
    lat: float
    lng: float
    weight: int  # how much of the city's activity it draws
    streets: tuple[str, ...]


DISTRICTS: tuple[District, ...] = (
    District("西湖", "West Lake", "西湖区", 30.2460, 120.1490, 16,
             ("北山街", "南山路", "杨公堤", "曙光路", "龙井路", "保俶路")),
    District("武林", "Wulin", "拱墅区", 30.2770, 120.1640, 14,
             ("武林路", "延安路", "体育场路", "环城北路", "凤起路", "中山北路")),
    District("滨江", "Binjiang", "滨江区", 30.2080, 120.2110, 10,
             ("江南大道", "滨盛路", "长河路", "江陵路", "网商路", "聚才路")),
    District("西溪", "Xixi", "西湖区", 30.2700, 120.0640, 8,
             ("文二西路", "天目山路", "五常大道", "西溪路", "紫金港路", "花坞路")),
    District("拱墅", "Gongshu", "拱墅区", 30.3190, 120.1420, 9,
             ("大关路", "湖墅南路", "莫干山路", "小河路", "丽水路", "登云路")),
    District("上城", "Shangcheng", "上城区", 30.2500, 120.1700, 13,
             ("河坊街", "中山中路", "南宋御街", "清泰街", "解放路", "定安路")),
    District("钱江新城", "Qianjiang New Town", "上城区", 30.2460, 120.2110, 11,
             ("富春路", "新业路", "钱江路", "民心路", "之江路", "市民街")),
    District("萧山", "Xiaoshan", "萧山区", 30.1620, 120.2640, 7,
             ("市心路", "金城路", "人民路", "建设一路", "育才路", "山阴路")),
    District("良渚", "Liangzhu", "余杭区", 30.3850, 120.0230, 5,
             ("良渚大道", "古墩路", "玉鸟路", "好运街", "七贤街", "博园路")),
    District("紫金港", "Zijingang", "西湖区", 30.3000, 120.0850, 7,
             ("余杭塘路", "紫金港路", "申花路", "三墩路", "振华路", "西园路")),
)

BRANDS: tuple[tuple[str, str], ...] = (
    ("青瓷", "Celadon"), ("竹里", "Bamboo Lane"), ("荷风", "Lotus Breeze"), ("云栖", "Yunqi"),
    ("龙井", "Longjing"), ("桂语", "Osmanthus"), ("初见", "First Glance"), ("拾光", "Time Keeper"),
    ("半山", "Half Hill"), ("南宋", "Southern Song"), ("柳浪", "Willow Wave"), ("断桥", "Broken Bridge"),
    ("宝石山", "Gem Hill"), ("钱塘", "Qiantang"), ("运河", "Grand Canal"), ("孤山", "Solitary Hill"),
    ("三潭", "Three Pools"), ("满觉陇", "Manjuelong"), ("九溪", "Nine Creeks"), ("梅家坞", "Meijiawu"),
    ("虎跑", "Hupao"), ("灵隐", "Lingyin"), ("吴山", "Wushan"), ("凤凰", "Phoenix"),
    ("小河", "Little River"), ("湖滨", "Lakeside"), ("北山", "Beishan"), ("清河坊", "Qinghefang"),
    ("丝路", "Silk Road"), ("白堤", "Bai Causeway"), ("苏堤", "Su Causeway"), ("杨柳", "Willow"),
    ("晓风", "Dawn Breeze"), ("听雨", "Rain Song"), ("朝暮", "Dawn & Dusk"), ("一隅", "Quiet Corner"),
    ("木心", "Timber Heart"), ("知味", "Zhiwei"), ("素心", "Plain Heart"), ("悦己", "Joy Within"),
)

SURNAMES = (("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
            ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"),
            ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("林", "Lin"),
            ("罗", "Luo"), ("高", "Gao"))
GIVEN_NAMES = (("静", "Jing"), ("伟", "Wei"), ("芳", "Fang"), ("磊", "Lei"), ("洋", "Yang"),
               ("婷", "Ting"), ("杰", "Jie"), ("敏", "Min"), ("涛", "Tao"), ("丽", "Li"),
               ("强", "Qiang"), ("霞", "Xia"), ("军", "Jun"), ("燕", "Yan"), ("浩", "Hao"))


@dataclass(frozen=True)
class Theme:
    """What businesses and experiences of one category are called and cost."""

    business_category: BusinessCategory
    kinds: tuple[tuple[str, str], ...]  # kinds of shop
    modifiers: tuple[tuple[str, str], ...]
    items: tuple[tuple[str, str], ...]
    formats: tuple[tuple[str, str, bool], ...]  # (cn, en, may be free)
    prices: tuple[int, ...]
    capacity: tuple[int, int]
    durations: tuple[int, ...]


THEMES: dict[Category, Theme] = {
    Category.BEAUTY: Theme(
        BusinessCategory.BEAUTY,
        (("美妆工作室", "Make-up Studio"), ("美甲沙龙", "Nail Salon"), ("彩妆专柜", "Cosmetics Counter"),
         ("护肤体验馆", "Skincare Lounge"), ("发型设计", "Hair Design")),
        (("日常", "Everyday"), ("新娘", "Bridal"), ("国风", "Guofeng"), ("轻透", "Sheer"), ("职场", "Office"),
         ("约会", "Date-night"), ("韩式", "Korean-style"), ("自然", "Natural"), ("节日", "Festive"),
         ("男士", "Men's")),
        (("妆容", "Make-up"), ("底妆", "Base Make-up"), ("眉形", "Brow Shaping"), ("美甲", "Manicure"),
         ("睫毛", "Lash"), ("护肤", "Skincare"), ("口红", "Lipstick"), ("香水", "Fragrance"),
         ("发型", "Hairstyling"), ("面部护理", "Facial")),
        (("试妆", "Trial", True), ("体验", "Experience", False), ("课程", "Lesson", False),
         ("咨询", "Consultation", True), ("一对一指导", "One-to-one Coaching", False)),
        (38, 58, 68, 88, 98, 128, 168, 198, 268, 328), (1, 4), (30, 45, 60, 90, 120),
    ),
    Category.FITNESS: Theme(
        BusinessCategory.FITNESS,
        (("健身工作室", "Fitness Studio"), ("瑜伽馆", "Yoga Studio"), ("拳击馆", "Boxing Gym"),
         ("普拉提中心", "Pilates Centre"), ("攀岩馆", "Climbing Gym")),
        (("入门", "Beginner"), ("进阶", "Intermediate"), ("晨间", "Morning"), ("燃脂", "Fat-burn"),
         ("核心", "Core"), ("小团", "Small-group"), ("私教", "Personal"), ("周末", "Weekend"),
         ("高强度", "HIIT"), ("舒缓", "Gentle")),
        (("瑜伽", "Yoga"), ("普拉提", "Pilates"), ("拳击", "Boxing"), ("动感单车", "Spin"), ("攀岩", "Climbing"),
         ("力量训练", "Strength Training"), ("体态评估", "Posture"), ("蛋白奶昔", "Protein Shake"),
         ("跑步", "Running"), ("太极", "Tai Chi")),
        (("体验课", "Taster Class", True), ("私教课", "PT Session", False), ("训练营", "Bootcamp", False),
         ("评估", "Assessment", True), ("公开课", "Open Class", False)),
        (38, 48, 58, 68, 88, 98, 128, 158, 198, 288), (1, 15), (30, 45, 60, 90),
    ),
    Category.CLASS: Theme(
        BusinessCategory.CRAFTS,
        (("陶艺工坊", "Pottery Studio"), ("手作工作室", "Craft Studio"), ("书法学堂", "Calligraphy School"),
         ("画室", "Art Studio"), ("木作坊", "Woodwork Shop")),
        (("手作", "Handmade"), ("亲手", "Hands-on"), ("传统", "Traditional"), ("创意", "Creative"),
         ("零基础", "Beginner"), ("周末", "Weekend"), ("夜间", "Evening"), ("双人", "Couples"),
         ("非遗", "Heritage"), ("国潮", "Guochao")),
        (("陶艺", "Pottery"), ("拉坯", "Wheel-throwing"), ("书法", "Calligraphy"), ("水彩", "Watercolour"),
         ("油画", "Oil Painting"), ("木工", "Woodworking"), ("扎染", "Tie-dye"), ("刺绣", "Embroidery"),
         ("皮具", "Leathercraft"), ("香薰蜡烛", "Scented Candle"), ("团扇", "Silk Fan"),
         ("银饰", "Silver Jewellery")),
        (("体验课", "Taster Class", False), ("工作坊", "Workshop", False), ("单次课", "Single Lesson", False),
         ("小班课", "Small-group Class", False), ("公开课", "Open Day", True)),
        (68, 88, 128, 168, 198, 238, 268, 298, 388, 468), (4, 20), (60, 90, 120, 150, 180),
    ),
    Category.FOOD: Theme(
        BusinessCategory.FOOD,
        (("茶馆", "Tea House"), ("咖啡馆", "Coffee House"), ("烘焙坊", "Bakery"), ("酒馆", "Wine Bar"),
         ("私房菜", "Private Kitchen"), ("点心铺", "Dim Sum House")),
        (("龙井", "Longjing"), ("手冲", "Pour-over"), ("杭帮", "Hangzhou-style"), ("时令", "Seasonal"),
         ("精酿", "Craft"), ("古法", "Old-style"), ("桂花", "Osmanthus"), ("新茶", "New-harvest"),
         ("单一产地", "Single-origin"), ("素食", "Vegetarian")),
        (("绿茶", "Green Tea"), ("咖啡", "Coffee"), ("啤酒", "Beer"), ("黄酒", "Rice Wine"), ("点心", "Dim Sum"),
         ("面包", "Bread"), ("甜品", "Dessert"), ("片儿川", "Pian'er Chuan Noodles"),
         ("东坡肉", "Dongpo Pork"), ("巧克力", "Chocolate")),
        (("品鉴", "Tasting", True), ("试吃", "Sampling", True), ("制作课", "Cooking Class", False),
         ("茶会", "Tea Gathering", False), ("搭配体验", "Pairing", False)),
        (38, 48, 58, 68, 88, 98, 128, 168, 198, 258), (4, 20), (30, 45, 60, 90, 120),
    ),
    Category.WELLNESS: Theme(
        BusinessCategory.WELLNESS,
        (("养生馆", "Wellness House"), ("SPA会所", "Spa"), ("推拿馆", "Tuina Clinic"),
         ("冥想空间", "Meditation Space"), ("足浴馆", "Foot Spa")),
        (("中式", "Chinese"), ("舒缓", "Soothing"), ("深层", "Deep-tissue"), ("芳香", "Aromatherapy"),
         ("肩颈", "Neck & Shoulder"), ("全身", "Full-body"), ("草本", "Herbal"), ("正念", "Mindful"),
         ("热石", "Hot-stone"), ("助眠", "Sleep")),
        (("推拿", "Tuina"), ("按摩", "Massage"), ("足疗", "Foot Reflexology"), ("艾灸", "Moxibustion"),
         ("刮痧", "Gua Sha"), ("冥想", "Meditation"), ("颂钵", "Sound Bath"), ("拔罐", "Cupping"),
         ("精油护理", "Oil Treatment"), ("泡浴", "Herbal Bath")),
        (("体验", "Session", False), ("疗程", "Treatment", False), ("初体验", "First Visit", True),
         ("双人套餐", "Couples Package", False), ("评估", "Consultation", True)),
        (98, 128, 168, 198, 238, 288, 328, 388, 468, 588), (1, 2), (30, 45, 60, 90, 120),
    ),
    Category.FASHION: Theme(
        BusinessCategory.FASHION,
        (("旗袍定制", "Qipao Atelier"), ("裁缝铺", "Tailor"), ("丝绸坊", "Silk House"), ("买手店", "Boutique"),
         ("西装定制", "Bespoke Suits")),
        (("定制", "Bespoke"), ("量身", "Made-to-measure"), ("丝绸", "Silk"), ("复古", "Vintage"),
         ("婚礼", "Wedding"), ("商务", "Business"), ("汉服", "Hanfu"), ("改良", "Modern"), ("亲子", "Family"),
         ("季节", "Seasonal")),
        (("旗袍", "Qipao"), ("西装", "Suit"), ("衬衫", "Shirt"), ("汉服", "Hanfu"), ("礼服", "Gown"),
         ("丝巾", "Silk Scarf"), ("大衣", "Coat"), ("配饰", "Accessories"), ("鞋履", "Shoes"), ("造型", "Styling")),
        (("试穿", "Fitting", True), ("量体", "Measuring", True), ("搭配咨询", "Style Consultation", False),
         ("体验", "Experience", False), ("定制预约", "Bespoke Appointment", False)),
        (88, 128, 168, 238, 288, 368, 428, 520, 588, 680), (1, 3), (30, 45, 60, 90, 120),
    ),
    Category.FAMILY: Theme(
        BusinessCategory.FAMILY,
        (("亲子乐园", "Family Playhouse"), ("儿童美术馆", "Kids' Art Studio"), ("科学馆", "Science Lab"),
         ("绘本馆", "Picture-book Library"), ("儿童烘焙", "Kids' Kitchen")),
        (("亲子", "Parent-child"), ("趣味", "Fun"), ("周末", "Weekend"), ("小小", "Little"), ("探索", "Discovery"),
         ("创意", "Creative"), ("自然", "Nature"), ("节日", "Holiday"), ("启蒙", "First Steps"),
         ("STEM", "STEM")),
        (("绘画", "Painting"), ("科学实验", "Science Experiments"), ("烘焙", "Baking"), ("乐高", "LEGO Building"),
         ("绘本", "Storytime"), ("手工", "Crafts"), ("音乐", "Music"), ("舞蹈", "Dance"), ("编程", "Coding"),
         ("自然观察", "Nature Watch")),
        (("体验课", "Taster Class", True), ("工作坊", "Workshop", False), ("派对", "Party", False),
         ("营地", "Camp", False), ("公开课", "Open Session", True)),
        (48, 58, 68, 88, 98, 128, 168, 198, 238, 298), (4, 16), (45, 60, 90, 120, 180),
    ),
    Category.OTHER: Theme(
        BusinessCategory.OTHER,
        (("摄影工作室", "Photo Studio"), ("花艺工作室", "Flower Studio"), ("密室", "Escape Room"),
         ("宠物咖啡", "Pet Café"), ("音乐教室", "Music Room")),
        (("复古", "Retro"), ("写真", "Portrait"), ("双人", "Duo"), ("沉浸式", "Immersive"), ("季节", "Seasonal"),
         ("入门", "Intro"), ("主题", "Themed"), ("夜场", "Late-night"), ("城市", "City"), ("古风", "Classical")),
        (("摄影", "Photography"), ("花艺", "Floristry"), ("密室逃脱", "Escape Room"), ("古琴", "Guqin"),
         ("尤克里里", "Ukulele"), ("撸猫", "Cat Café"), ("调香", "Perfume Blending"), ("剧本杀", "Murder Mystery"),
         ("插花", "Flower Arranging"), ("读书会", "Book Club")),
        (("体验", "Experience", True), ("课程", "Class", False), ("拍摄", "Shoot", False), ("专场", "Session", False),
         ("沙龙", "Salon", True)),
        (38, 68, 88, 128, 168, 198, 268, 328, 398, 498), (1, 12), (30, 60, 90, 120, 180),
    ),
}
CATEGORIES: tuple[Category, ...] = tuple(Category)
TAGS: tuple[tuple[str, str], ...] = (
    ("", ""), ("", ""), ("", ""), ("", ""), ("（限定）", "(limited)"), ("（新品）", "(new)"),
    ("（周末）", "(weekends)"), ("（晚场）", "(evenings)"), ("（双人）", "(for two)"), ("（小班）", "(small group)"),
)
DURATIONS_ALL = (30, 45, 60, 90, 120, 150, 180)
CUTOFFS = (2, 4, 6, 12, 24, 48)

# Weekly hours, weekday 0 = Monday, store-local time.
_DAILY = tuple((d, time(10), time(21)) for d in range(7))
_CLOSED_MONDAY = tuple((d, time(10), time(20)) for d in range(1, 7))
_LUNCH_BREAK = tuple(
    interval for d in range(6) for interval in ((d, time(9), time(12)), (d, time(13, 30), time(18)))
)
_LATE_WEEKEND = tuple((d, time(11), time(22)) for d in range(5)) + tuple(
    (d, time(9, 30), time(22)) for d in (5, 6))
_TEA_HOUSE = tuple(
    interval for d in range(7) for interval in ((d, time(8, 30), time(11, 30)), (d, time(13), time(22, 30)))
)
HOURS_PATTERNS: tuple[tuple[tuple[int, time, time], ...], ...] = (
    _DAILY, _DAILY, _CLOSED_MONDAY, _CLOSED_MONDAY, _LUNCH_BREAK, _LATE_WEEKEND, _TEA_HOUSE,
)

# Spring Festival (春节) falls on a lunar date; these are its Gregorian days.
SPRING_FESTIVAL = {
    2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
    2030: date(2030, 2, 3), 2031: date(2031, 1, 23), 2032: date(2032, 2, 11), 2033: date(2033, 1, 31),
}


# -- small helpers -------------------------------------------------------------

def _jitter(rng: random.Random, lat: float, lng: float, max_m: float) -> LngLat:
    """Return a point uniformly inside a disc of ``max_m`` metres around (lat, lng)."""
    r = max_m * math.sqrt(rng.random())
    theta = rng.random() * 2 * math.pi
    dlat = r * math.cos(theta) / METRES_PER_DEGREE
    dlng = r * math.sin(theta) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return LngLat(lng=round(lng + dlng, 6), lat=round(lat + dlat, 6))


def _address(rng: random.Random, district: District) -> str:
    street = rng.choice(district.streets)
    return f"浙江省杭州市{district.area_cn}{street}{rng.randint(1, 399)}号"


def _phone(rng: random.Random) -> str:
    return f"0571-{rng.randint(8100, 8899)}{rng.randint(0, 9999):04d}"


def _policy(cutoff: int, free: bool, variant: int) -> str:
    if free:
        return ("免费体验，每人限一次；如不能到店请提前取消。"
                "Free experience, once per person; please cancel if you cannot come.")
    if variant == 0:
        return (f"开始前{cutoff}小时可免费取消；迟到15分钟以上视为未到店。"
                f"Free cancellation up to {cutoff} h before the start; arriving more than "
                "15 minutes late counts as a no-show.")
    return (f"到店付款，支持现金、微信和支付宝；开始前{cutoff}小时内取消请联系门店。"
            f"Pay at the store (cash, WeChat Pay or Alipay); within {cutoff} h of the start, "
            "contact the store to cancel.")


def _title(rng: random.Random, theme: Theme) -> tuple[str, bool]:
    """Return a bilingual experience title and whether it may be offered free."""
    mod_cn, mod_en = rng.choice(theme.modifiers)
    item_cn, item_en = rng.choice(theme.items)
    fmt_cn, fmt_en, may_be_free = rng.choice(theme.formats)
    tag_cn, tag_en = rng.choice(TAGS)
    english = f"{mod_en} {item_en} {fmt_en}" + (f" {tag_en}" if tag_en else "")
    return f"{mod_cn}{item_cn}{fmt_cn}{tag_cn} {english}", may_be_free


def _next_holidays(today: date) -> list[tuple[date, bool, str]]:
    """Return upcoming (day, is_closed, note) holiday exceptions after ``today``."""
    year = today.year if today < date(today.year, 12, 31) else today.year + 1
    days = [
        (date(year, 12, 31), False, "跨年夜提前打烊 New Year's Eve: closing early"),
        (date(year + 1, 1, 1), True, "元旦休息 Closed on New Year's Day"),
    ]
    for spring in sorted(SPRING_FESTIVAL.values()):
        if spring > today:
            days.append((spring, True, "春节休息 Closed for the Spring Festival"))
            break
    return days


def _offering(rng: random.Random, store: Store, category: Category, district: District) -> Offering:
    theme = THEMES[category]
    title, may_be_free = _title(rng, theme)
    free = may_be_free and rng.random() < 0.5
    price = Decimal(0) if free else Decimal(rng.choice(theme.prices))
    cutoff = rng.choice(CUTOFFS)
    return Offering(
        store=store,
        title=title,
        description=(f"在我们{district.cn}的门店进行，材料和工具均由门店提供，到店付款。"
                     f"Held at our {district.en} store; materials and tools are provided; "
                     "pay at the store."),
        category=category.value,
        price_amount=price.quantize(Decimal("0.01")),
        currency=CURRENCY,
        duration_min=rng.choice(theme.durations),
        capacity=rng.randint(*theme.capacity),
        cancel_cutoff_hours=cutoff,
        policy_text=_policy(cutoff, free, rng.randrange(2)),
        location=store.location,
    )


def _hours(pattern: Sequence[tuple[int, time, time]]) -> list[OpeningHours]:
    return [OpeningHours(weekday=d, opens_at=o, closes_at=c) for d, o, c in pattern]


def _get_or_create_user(email: str, password_hash: str, display_name: str, role: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, password_hash=password_hash, display_name=display_name, role=role)
        db.session.add(user)
    return user


def demo_counts() -> dict[str, int]:
    """Count the demo city's businesses, stores and experiences."""
    owners = select(User.id).where(User.email.like(DEMO_MERCHANT_PATTERN)).scalar_subquery()
    businesses = select(Business.id).where(Business.owner_id.in_(owners))
    stores = select(Store.id).where(Store.business_id.in_(businesses))
    return {
        "businesses": db.session.scalar(select(func.count()).select_from(businesses.subquery())),
        "stores": db.session.scalar(select(func.count()).select_from(stores.subquery())),
        "offerings": db.session.scalar(
            select(func.count(Offering.id)).where(Offering.store_id.in_(stores))),
    }


# -- the demo city -------------------------------------------------------------

def load_demo_city(seed: int = 7) -> dict:
    """Fill Hangzhou with demo merchants, stores and experiences, and the three demo accounts.

    Does nothing when the demo merchant account already exists. Flushes, never commits.
    Returns {"businesses", "stores", "offerings", "created"}.
    """
    if db.session.scalar(select(User.id).where(User.email == MERCHANT_EMAIL)) is not None:
        # A city loaded before bookings existed gets its availability now; one loaded weeks ago, today's slots.
        from bookings.services import roll_horizons

        _open_bookings(_demo_offerings_without_schedule(), random.Random(seed))
        roll_horizons(clock.now())
        _add_photos()
        _add_reviews(random.Random(seed))
        _add_disputes()
        _add_console()
        load_demo_conversations(MERCHANT_EMAIL, RESIDENT_EMAIL)
        load_demo_favourites(MERCHANT_EMAIL, RESIDENT_EMAIL)
        load_demo_demand(clock.today(ZoneInfo(TIMEZONE)))  # the radar's year of searches, and the days since
        return {**demo_counts(), "created": False}

    rng = random.Random(seed)
    today = clock.today(ZoneInfo(TIMEZONE))
    holidays = _next_holidays(today)
    merchant_hash = hash_password(MERCHANT_PASSWORD)

    _get_or_create_user(RESIDENT_EMAIL, hash_password(RESIDENT_PASSWORD), "Demo Resident 示范居民",
                        Role.RESIDENT)
    merchant = _get_or_create_user(MERCHANT_EMAIL, merchant_hash, "Demo Merchant 示范商家", Role.MERCHANT)
    # A resident who works at the studio: membership, not the account's role, makes staff.
    staff = _get_or_create_user(STAFF_EMAIL, hash_password(STAFF_PASSWORD), "Demo Staff 示范店员", Role.RESIDENT)

    objects: list[object] = []
    _build_demo_studio(merchant, staff, holidays, objects)

    # Every category gets at least seven businesses, in a seeded order.
    categories = [CATEGORIES[i % len(CATEGORIES)] for i in range(CITY_BUSINESSES)]
    rng.shuffle(categories)
    store_counts = _spread(rng, CITY_BUSINESSES, CITY_STORES, low=1, high=4)
    offering_counts = _spread(rng, CITY_STORES, CITY_OFFERINGS, low=2, high=6)
    used_names: set[str] = {DEMO_BUSINESS_NAME}
    store_index = 0
    for index, category in enumerate(categories, start=1):
        theme = THEMES[category]
        home = rng.choices(DISTRICTS, weights=[d.weight for d in DISTRICTS])[0]
        name_cn, name_en = _business_name(rng, theme, home, used_names)
        sur_cn, sur_en = rng.choice(SURNAMES)
        given_cn, given_en = rng.choice(GIVEN_NAMES)
        owner = User(email=f"merchant{index:02d}@demo.onsite", password_hash=merchant_hash,
                     display_name=f"{sur_cn}{given_cn} {sur_en} {given_en}", role=Role.MERCHANT)
        business = Business(
            owner=owner, name=f"{name_cn} {name_en}",
            description=(f"{name_cn}，杭州本地小店，欢迎到店体验。"
                         f"{name_en}: a local Hangzhou shop. Come and try it in person."),
            phone=_phone(rng), category=theme.business_category.value, is_verified=rng.random() < 0.8,
        )
        objects += [owner, business]
        n_stores = store_counts[index - 1]
        for branch in range(n_stores):
            district = home if branch == 0 else rng.choices(DISTRICTS, weights=[d.weight for d in DISTRICTS])[0]
            if n_stores == 1:
                store_name = f"{name_cn} {name_en}"
            else:
                store_name = f"{name_cn}（{district.cn}店） {name_en} · {district.en}"
            store = Store(
                business=business, name=store_name[:120], address=_address(rng, district),
                location=_jitter(rng, district.lat, district.lng, 1500).to_element(),
                timezone=TIMEZONE, geofence_m=rng.choice((80, 100, 150, 150, 200, 300)),
            )
            store.hours = _hours(rng.choice(HOURS_PATTERNS))
            store.exceptions = [
                HoursException(day=day, is_closed=closed, note=note,
                               opens_at=None if closed else time(10), closes_at=None if closed else time(17))
                for day, closed, note in holidays if rng.random() < 0.5
            ]
            objects.append(store)
            for _ in range(offering_counts[store_index]):
                offering_category = category if rng.random() < 0.85 else rng.choice(CATEGORIES)
                objects.append(_offering(rng, store, offering_category, district))
            store_index += 1

    for item in objects:
        if isinstance(item, Offering):
            item.refresh_search_text()
    db.session.add_all(objects)
    db.session.flush()
    _open_bookings([item for item in objects if isinstance(item, Offering)], rng)
    _add_photos()
    _add_reviews(rng)
    _add_disputes()
    _add_console()
    load_demo_conversations(MERCHANT_EMAIL, RESIDENT_EMAIL)  # one answered, one waiting
    load_demo_favourites(MERCHANT_EMAIL, RESIDENT_EMAIL)  # two saved experiences, one followed store
    load_demo_demand(today)  # the radar's year of searches
    return {**demo_counts(), "created": True}


def _add_photos() -> None:
    """Pictures (drawn here, app/media/demo.py) for every demo experience and store without one; galleries
    for the demo studio's."""
    from app.media.demo import add_demo_photos

    demo = select(Business.id).join(User, Business.owner_id == User.id).where(User.email.like(DEMO_MERCHANT_PATTERN))
    add_demo_photos(demo, gallery_business_id=db.session.scalar(
        select(Business.id).where(Business.name == DEMO_BUSINESS_NAME)))


def _demo_offerings_without_schedule() -> list[Offering]:
    from bookings.services import offerings_without_schedule

    return offerings_without_schedule(
        select(Business.id).join(User, Business.owner_id == User.id).where(User.email.like(DEMO_MERCHANT_PATTERN)))


def _open_bookings(offerings: list[Offering], rng: random.Random) -> None:
    """Give every demo experience weekly start times inside its store's hours, three weeks ahead."""
    from bookings.services import set_schedule

    now = clock.now()
    for offering in offerings:
        store = offering.store
        weekly = []
        for weekday in range(7):
            times = set()
            for interval in (h for h in store.hours if h.weekday == weekday):
                start = interval.opens_at.hour + 1
                last = interval.closes_at.hour - max(1, -(-offering.duration_min // 60))
                step = rng.choice((2, 3))
                times.update(f"{hour:02d}:{rng.choice(('00', '30')) if step == 3 else '00'}"
                             for hour in range(start, last + 1, step))
            if times:
                weekly.append({"weekday": weekday, "times": sorted(times)})
        set_schedule(store.business.owner, offering, {
            "weekly": weekly, "weeks_ahead": 3, "min_notice_minutes": rng.choice((30, 60, 120)),
            "requires_approval": rng.random() < 0.1,
        }, now)


def _spread(rng: random.Random, slots: int, total: int, *, low: int, high: int) -> list[int]:
    """Split ``total`` into ``slots`` seeded counts, each within [low, high]."""
    counts = [total // slots] * slots
    for i in range(total - sum(counts)):
        counts[i] += 1
    for _ in range(slots * 2):  # move units around while keeping the bounds
        a, b = rng.randrange(slots), rng.randrange(slots)
        if a != b and counts[a] > low and counts[b] < high:
            counts[a] -= 1
            counts[b] += 1
    return counts


def _business_name(rng: random.Random, theme: Theme, home: District, used: set[str]) -> tuple[str, str]:
    for _ in range(100):
        kind_cn, kind_en = rng.choice(theme.kinds)
        if rng.random() < 0.4:
            prefix_cn, prefix_en = home.cn, home.en
        else:
            prefix_cn, prefix_en = rng.choice(BRANDS)
        name = f"{prefix_cn}{kind_cn} {prefix_en} {kind_en}"
        if name not in used:
            used.add(name)
            return f"{prefix_cn}{kind_cn}", f"{prefix_en} {kind_en}"
    raise RuntimeError("ran out of business names")  # pragma: no cover - 40 brands x 5 kinds


def _build_demo_studio(merchant: User, staff: User, holidays: list[tuple[date, bool, str]],
                       objects: list[object]) -> None:
    """The demo merchant's business: two stores by West Lake, a handful of experiences."""
    business = Business(
        owner=merchant, name=DEMO_BUSINESS_NAME,
        description=("示范工作室：陶艺、茶、美妆、推拿、旗袍和亲子课，都在西湖边。"
                     "The demo merchant's studio by West Lake: pottery, tea, make-up, tuina, "
                     "qipao fittings and classes for kids."),
        phone="0571-8700 0000", category=BusinessCategory.CRAFTS.value, is_verified=True,
    )
    north = Store(
        business=business, name="示范工作室（北山街店） Onsite Demo Studio · Beishan Road",
        address="浙江省杭州市西湖区北山街58号", location=LngLat(lng=120.1478, lat=30.2565).to_element(),
        timezone=TIMEZONE, geofence_m=150,
    )
    north.hours = _hours(_CLOSED_MONDAY)
    south = Store(
        business=business, name="示范工作室（南山路店） Onsite Demo Studio · Nanshan Road",
        address="浙江省杭州市上城区南山路202号", location=LngLat(lng=120.1612, lat=30.2452).to_element(),
        timezone=TIMEZONE, geofence_m=150,
    )
    south.hours = _hours(_LUNCH_BREAK)
    for store in (north, south):
        store.exceptions = [
            HoursException(day=day, is_closed=closed, note=note,
                           opens_at=None if closed else time(10), closes_at=None if closed else time(17))
            for day, closed, note in holidays
        ]
    north.staff = [StoreStaff(user=staff)]
    items = (
        (north, Category.CLASS, "手作陶艺拉坯体验课 Hands-on Pottery Wheel Taster Class", "168", 120, 8, 24),
        (north, Category.FOOD, "龙井新茶免费品鉴 Free Longjing New-harvest Tea Tasting", "0", 30, 12, 2),
        (north, Category.BEAUTY, "国风妆容试妆 Guofeng Make-up Trial", "98", 60, 2, 12),
        (south, Category.WELLNESS, "中式肩颈推拿 Chinese Neck & Shoulder Tuina", "238", 60, 1, 6),
        (south, Category.FASHION, "丝绸旗袍量身试穿 Made-to-measure Silk Qipao Fitting", "288", 90, 2, 48),
        (south, Category.FAMILY, "亲子水彩绘画工作坊 Parent-child Watercolour Workshop", "88", 90, 10, 24),
    )
    objects += [business, north, south]
    for store, category, title, price, minutes, capacity, cutoff in items:
        free = price == "0"
        objects.append(Offering(
            store=store, title=title, category=category.value,
            description=("示范体验：在西湖边的示范工作室进行，到店付款。"
                         "A demo experience at the Onsite Demo Studio by West Lake; pay at the store."),
            price_amount=Decimal(price).quantize(Decimal("0.01")), currency=CURRENCY,
            duration_min=minutes, capacity=capacity, cancel_cutoff_hours=cutoff,
            policy_text=_policy(cutoff, free, 0), location=store.location,
        ))


# -- reviews of demo visits (trust) ---------------------------------------------

REVIEWER_EMAIL = "reviewer{:02d}@demo.onsite"
REVIEWERS = 12
REVIEW_TEXTS = (
    (5, "老师很耐心，一步步教，做出来的作品很满意。The teacher was patient and walked us through every step."),
    (5, "环境安静干净，预约准时开始，下次还会再来。Quiet, clean studio; started right on time. Will come back."),
    (4, "体验不错，就是周末人有点多，建议早点到。Good experience, a bit busy at the weekend, arrive early."),
    (5, "服务很贴心，到店付款也方便，强烈推荐！Thoughtful service and paying at the store was easy."),
    (4, "性价比高，内容和介绍一致。Good value, exactly as described."),
    (3, "整体还可以，等了十分钟才开始。It was fine overall, but we waited ten minutes to start."),
    (5, "带孩子来的，孩子玩得很开心。Came with my kid, who loved every minute."),
    (4, "店员很友好，材料准备得很充分。Friendly staff and everything was ready for us."),
)
REPLIES = (
    "谢谢您的好评，欢迎下次再来！Thank you for the kind words, see you again soon!",
    "感谢反馈，我们会改进排队时间。Thanks for the feedback, we are working on the waiting time.",
    "很高兴您喜欢，期待再次见到您。So glad you enjoyed it, hope to see you again.",
)


def _past_visit(offering: Offering, resident: User, ended: datetime, *, verified: bool):
    """A completed, checked-in visit that ended at ``ended`` (in a slot of its own), for demo reviews and disputes."""
    from bookings.models import Booking, CheckIn, Slot
    from bookings.services import new_code

    starts = ended - timedelta(minutes=offering.duration_min)
    slot = Slot(offering_id=offering.id, starts_at=starts, ends_at=ended, capacity=offering.capacity, seats_taken=1)
    db.session.add(slot)
    db.session.flush()
    booking = Booking(slot_id=slot.id, offering_id=offering.id, store_id=offering.store_id,
                      resident_id=resident.id, starts_at=starts, party_size=1, status="completed",
                      unit_price=offering.price_amount, currency=offering.currency,
                      price_due=offering.price_amount, code=new_code(), created_at=starts)
    db.session.add(booking)
    db.session.flush()
    db.session.add(CheckIn(booking_id=booking.id, store_id=offering.store_id,
                           method="self_geofence" if verified else "staff_scan",
                           verification="verified" if verified else "staff_verified",
                           checked_in_at=starts + timedelta(minutes=2)))
    db.session.flush()
    return booking


def _add_reviews(rng: random.Random) -> None:
    """Reviews with the store's replies on the demo studio's experiences and on some of the city's, each
    from a checked-in demo visit of the past weeks, and one visit of the demo resident yesterday still to
    review. Nothing when demo reviews exist already."""
    from trust.models import Review
    from trust.services import ReviewLimits, create_review

    reviewers_exist = select(User.id).where(User.email.like("reviewer%@demo.onsite"))
    if db.session.scalar(select(Review.id).where(Review.resident_id.in_(reviewers_exist)).limit(1)) is not None:
        return
    now = clock.now()
    reviewer_hash = hash_password(secrets.token_hex(16))  # nobody logs in as a reviewer
    reviewers = []
    for n in range(1, REVIEWERS + 1):
        (sur_cn, sur_en), (given_cn, given_en) = rng.choice(SURNAMES), rng.choice(GIVEN_NAMES)
        user = _get_or_create_user(REVIEWER_EMAIL.format(n), reviewer_hash,
                                   f"{sur_cn}{given_cn} {sur_en} {given_en}", Role.RESIDENT)
        user.created_at = now - timedelta(days=200 + n)
        reviewers.append(user)
    db.session.flush()
    studio = db.session.scalar(select(Business).where(Business.name == DEMO_BUSINESS_NAME))
    studio_offerings = list(db.session.scalars(select(Offering).join(Store).where(Store.business_id == studio.id)
                                               .order_by(Offering.id)))
    city = list(db.session.scalars(select(Offering).join(Store).join(Business).join(User, Business.owner_id == User.id)
                                   .where(User.email.like(DEMO_MERCHANT_PATTERN), Business.id != studio.id)
                                   .order_by(Offering.id)))
    chosen = [(o, rng.randint(3, 5)) for o in studio_offerings] + \
             [(o, rng.randint(1, 4)) for o in rng.sample(city, min(60, len(city)))]
    loose = ReviewLimits(burst_per_hour=10**6, same_day_accounts=10**6)

    for offering, count in chosen:
        for index, reviewer in enumerate(rng.sample(reviewers, count)):
            # On the hour, days apart: no two slots of one experience start together.
            ended = (now - timedelta(days=2 + 3 * index + rng.randint(0, 2))).replace(minute=0, second=0,
                                                                                      microsecond=0)
            booking = _past_visit(offering, reviewer, ended, verified=rng.random() < 0.6)
            stars, text = rng.choice(REVIEW_TEXTS)
            review = create_review(reviewer, booking.id, {
                "rating": stars, "rating_described": max(1, stars - rng.choice((0, 0, 1))),
                "rating_service": max(1, stars - rng.choice((0, 0, 1))),
                "rating_value": max(1, stars - rng.choice((0, 1))), "body": text,
            }, [], ended + timedelta(hours=rng.randint(1, 20)), limits=loose)
            if rng.random() < 0.7:  # the store answers most (written here: no notice for a demo account)
                review.reply_body = rng.choice(REPLIES) if stars >= 4 else REPLIES[1]
                review.reply_by_id = offering.store.business.owner_id
                review.replied_at = review.created_at + timedelta(hours=rng.randint(2, 30))
    resident = db.session.scalar(select(User).where(User.email == RESIDENT_EMAIL))
    if resident is not None and studio_offerings:
        _past_visit(studio_offerings[0], resident, (now - timedelta(days=1)).replace(minute=0, second=0, microsecond=0),
                    verified=True)
    db.session.flush()


# -- disputes (trust) -------------------------------------------------------------

DEMO_DISPUTES = (
    # (resident e-mail, which studio experience, hours ago the visit ended, reason, what happened, ask, amount)
    (RESIDENT_EMAIL, 3, 20, "not_as_described",
     "说好的60分钟推拿只做了35分钟。The 60-minute tuina lasted 35 minutes.", "refund", "100.00"),
    (REVIEWER_EMAIL.format(1), 5, 50, "safety_or_hygiene",
     "画笔和调色盘没有清洗干净。The brushes and palettes had not been cleaned.", "apology", None),
)


def _add_disputes() -> None:
    """Disputes for the demo merchant: the demo resident's, opened a few hours ago and waiting for the store's
    answer (so a new merchant sees the 48-hour deadline), and an older one the store answered with an apology.
    Nothing when the studio has disputes already."""
    from trust.models import Dispute
    from trust.services import answer_dispute, open_dispute

    studio = db.session.scalar(select(Business).where(Business.name == DEMO_BUSINESS_NAME))
    if studio is None:
        return
    stores = select(Store.id).where(Store.business_id == studio.id)
    if db.session.scalar(select(Dispute.id).where(Dispute.store_id.in_(stores)).limit(1)) is not None:
        return
    offerings = list(db.session.scalars(select(Offering).where(Offering.store_id.in_(stores)).order_by(Offering.id)))
    now = clock.now()
    for email, index, hours_ago, reason, text, asks, amount in DEMO_DISPUTES:
        resident = db.session.scalar(select(User).where(User.email == email))
        if resident is None or index >= len(offerings):
            continue
        offering = offerings[index]
        # Half past the hour: the demo's other visits start on the hour, and a slot's start is unique.
        ended = now.replace(minute=30, second=0, microsecond=0) - timedelta(hours=hours_ago)
        booking = _past_visit(offering, resident, ended, verified=False)
        opened_at = ended + timedelta(hours=2)
        dispute = open_dispute(resident, booking.id, {"reason": reason, "description": text, "asks": asks,
                                                      "asked_amount": amount}, [], min(opened_at, now))
        if asks == "apology":
            answer_dispute(studio.owner, dispute.id, {
                "action": "accept", "offer": "none",
                "message": "非常抱歉，已经加强清洁流程。We are sorry and have tightened our cleaning routine."},
                [], min(opened_at + timedelta(hours=5), now))
    db.session.flush()


# -- bulk experiences for benchmarks --------------------------------------------

_BOX_DLAT = BULK_HALF_SIDE_M / METRES_PER_DEGREE
_BOX_DLNG = BULK_HALF_SIDE_M / (METRES_PER_DEGREE * math.cos(math.radians(HANGZHOU.lat)))


def _add_console() -> None:
    """The operator's console's history: the studio verified, a few merchants warned, one suspended."""
    from trust.demo_console import load_demo_console

    load_demo_console(MERCHANT_EMAIL)


def _bulk_point(rng: random.Random, weights: Sequence[int]) -> tuple[float, float]:
    """Return (lng, lat) inside the 30 km box, mostly bunched around district centres."""
    while True:
        if rng.random() < 0.8:
            district = rng.choices(DISTRICTS, weights=weights)[0]
            sigma = rng.choice((600.0, 1200.0, 2500.0))
            lat = district.lat + rng.gauss(0.0, sigma) / METRES_PER_DEGREE
            lng = district.lng + rng.gauss(0.0, sigma) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
        else:
            lat = HANGZHOU.lat + rng.uniform(-_BOX_DLAT, _BOX_DLAT)
            lng = HANGZHOU.lng + rng.uniform(-_BOX_DLNG, _BOX_DLNG)
        if abs(lat - HANGZHOU.lat) <= _BOX_DLAT and abs(lng - HANGZHOU.lng) <= _BOX_DLNG:
            return lng, lat


def _reserve_ids(cursor, table: str, count: int) -> list[int]:
    """Take ``count`` ids from the table's id sequence, so rows can be copied with known ids."""
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table, count))
    return [row[0] for row in cursor.fetchall()]


def _bulk_owner() -> User:
    owner = db.session.scalar(select(User).where(User.email == BULK_OWNER_EMAIL))
    if owner is None:
        # A random password nobody knows: the account only owns the synthetic businesses.
        owner = User(email=BULK_OWNER_EMAIL, password_hash=hash_password(secrets.token_urlsafe(24)),
                     display_name="Bulk Data Owner", role=Role.MERCHANT)
        db.session.add(owner)
        db.session.flush()
    return owner


def generate_offerings(n: int, seed: int, batch: int = 20000,
                       progress: Callable[[int], object] | None = None) -> int:
    """Bulk-load ``n`` synthetic experiences around Hangzhou with COPY, for benchmarks.

    Creates one store per ~10 experiences and one business per ~20 stores, all owned by
    ``bulk-owner@demo.onsite``. The same seed gives the same data. ``progress`` is called
    with the running total of experiences loaded after each batch. Flushes, never commits.
    Returns the number of experiences loaded.
    """
    if n <= 0:
        return 0
    batch = max(1, batch)
    rng = random.Random(seed)
    owner_id = _bulk_owner().id
    weights = [d.weight for d in DISTRICTS]

    per_store: list[int] = []
    planned = 0
    while planned < n:
        count = min(rng.randint(1, 19), n - planned)
        per_store.append(count)
        planned += count
    n_stores = len(per_store)
    n_businesses = -(-n_stores // 20)

    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        business_ids = _reserve_ids(cursor, "businesses", n_businesses)
        store_ids = _reserve_ids(cursor, "stores", n_stores)

        business_category: list[Category] = []
        business_name: list[tuple[str, str]] = []
        with cursor.copy("COPY businesses (id, owner_id, name, description, phone, category, status,"
                         " is_verified) FROM STDIN") as copy:
            for business_id in business_ids:
                category = rng.choice(CATEGORIES)
                theme = THEMES[category]
                brand_cn, brand_en = rng.choice(BRANDS)
                kind_cn, kind_en = rng.choice(theme.kinds)
                business_category.append(category)
                business_name.append((brand_cn + kind_cn, f"{brand_en} {kind_en}"))
                copy.write_row((
                    business_id, owner_id, f"{brand_cn}{kind_cn} {brand_en} {kind_en}",
                    "Synthetic benchmark business 合成测试商家", _phone(rng),
                    theme.business_category.value, "active", rng.random() < 0.7,
                ))

        store_point: list[str] = []
        store_category: list[Category] = []
        store_district: list[str] = []
        store_name: list[str] = []
        with cursor.copy("COPY stores (id, business_id, name, address, location, timezone, status,"
                         " geofence_m) FROM STDIN") as copy:
            for index, store_id in enumerate(store_ids):
                owner_index = index * n_businesses // n_stores
                lng, lat = _bulk_point(rng, weights)
                district = min(DISTRICTS, key=lambda d: (d.lat - lat) ** 2 + (d.lng - lng) ** 2)
                point = f"SRID=4326;POINT({lng:.6f} {lat:.6f})"
                name_cn, name_en = business_name[owner_index]
                store_point.append(point)
                store_category.append(business_category[owner_index])
                store_district.append(district.cn)
                store_name.append(
                    f"{name_cn}（{district.cn}{index + 1}号店） {name_en} · {district.en} #{index + 1}"[:120])
                copy.write_row((
                    store_id, business_ids[owner_index], store_name[-1],
                    _address(rng, district), point, TIMEZONE, "active", 150,
                ))

        with cursor.copy("COPY opening_hours (store_id, weekday, opens_at, closes_at) FROM STDIN") as copy:
            for store_id in store_ids:
                for weekday, opens, closes in HOURS_PATTERNS[rng.randrange(len(HOURS_PATTERNS))]:
                    copy.write_row((store_id, weekday, opens, closes))

        # Pre-render the repeated texts once: the loop below runs a million times.
        policies = {(cutoff, free, variant): _policy(cutoff, free, variant)
                    for cutoff in CUTOFFS for free in (False, True) for variant in (0, 1)}
        descriptions = {d.cn: f"合成测试体验，门店位于{d.cn}。Synthetic benchmark experience in {d.en}."
                        for d in DISTRICTS}
        prices = {p: f"{p}.00" for theme in THEMES.values() for p in theme.prices}
        random_ = rng.random
        store_cursor = 0
        left_here = per_store[0]
        done = 0
        columns = ("store_id, title, description, category, price_amount, currency, duration_min,"
                   " capacity, cancel_cutoff_hours, policy_text, status, location, search_text")
        while done < n:
            size = min(batch, n - done)
            with cursor.copy(f"COPY offerings ({columns}) FROM STDIN") as copy:
                for _ in range(size):
                    if left_here == 0:
                        store_cursor += 1
                        left_here = per_store[store_cursor]
                    left_here -= 1
                    category = store_category[store_cursor]
                    if random_() >= 0.85:
                        category = CATEGORIES[int(random_() * len(CATEGORIES))]
                    theme = THEMES[category]
                    title, may_be_free = _title(rng, theme)
                    free = may_be_free and random_() < 0.5
                    cutoff = CUTOFFS[int(random_() * len(CUTOFFS))]
                    description = descriptions[store_district[store_cursor]]
                    copy.write_row((
                        store_ids[store_cursor], title, description,
                        category.value,
                        "0.00" if free else prices[theme.prices[int(random_() * len(theme.prices))]],
                        CURRENCY, theme.durations[int(random_() * len(theme.durations))],
                        theme.capacity[0] + int(random_() * (theme.capacity[1] - theme.capacity[0] + 1)),
                        cutoff, policies[(cutoff, free, int(random_() * 2))], "active",
                        store_point[store_cursor],
                        search_text_for(title, store_name[store_cursor], category.value, description),
                    ))
            done += size
            if progress is not None:
                progress(done)

        for table in ("users", "businesses", "stores", "opening_hours", "offerings"):
            cursor.execute(f"ANALYZE {table}")
    return done
