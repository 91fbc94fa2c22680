"""Demo data for a first start: two regions of a heavy-machinery after-sales network, their people,
customers, sites, equipment and call queues. Writes through a unit of work; never commits.
Must not import any transport or entry point."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlmodel import select

from backend.auth.passwords import hash_password
from backend.domain.actors import Role
from backend.persistence.tables import CallQueue, Customer, Equipment, Provider, Region, Site, User
from backend.services.uow import UnitOfWork

# One documented password per role (development only: `fieldline run` prints them).
PASSWORDS: dict[Role, str] = {
    Role.ADMIN: "admin-demo",
    Role.SUPERVISOR: "supervisor-demo",
    Role.AGENT: "agent-demo",
    Role.ENGINEER: "engineer-demo",
    Role.SERVICE_MANAGER: "manager-demo",
    Role.WALLBOARD: "wallboard-demo",
}

# code, name
REGIONS = [("east", "华东大区 East China"), ("west", "西南大区 Southwest")]

# region, name, phone
PROVIDERS = [
    ("east", "上海浦东工程机械服务网点", "021-5855-3100"),
    ("west", "成都龙泉驿工程机械服务网点", "028-8485-6200"),
]

# username, display name, role, region, phone, skills (engineers belong to their region's provider)
USERS: list[tuple[str, str, Role, str | None, str, tuple[str, ...]]] = [
    ("admin", "系统管理员 Admin", Role.ADMIN, None, "", ()),
    ("supervisor", "王丽 Wang Li (组长)", Role.SUPERVISOR, None, "13761000010", ()),
    ("agent1", "李娜 Li Na", Role.AGENT, None, "13761000011", ()),
    ("agent2", "陈静 Chen Jing", Role.AGENT, None, "13761000012", ()),
    ("agent3", "赵敏 Zhao Min", Role.AGENT, None, "13761000013", ()),
    ("wallboard", "呼叫中心大屏 Wallboard", Role.WALLBOARD, None, "", ()),
    ("manager-east", "周建国 Zhou Jianguo", Role.SERVICE_MANAGER, "east", "13901710001", ()),
    ("eng-east-1", "张伟 Zhang Wei", Role.ENGINEER, "east", "13901710011", ("excavator", "hydraulics")),
    ("eng-east-2", "刘洋 Liu Yang", Role.ENGINEER, "east", "13901710012", ("excavator", "engine")),
    ("eng-east-3", "孙磊 Sun Lei", Role.ENGINEER, "east", "13901710013", ("crane", "electrical")),
    ("manager-west", "杨帆 Yang Fan", Role.SERVICE_MANAGER, "west", "13908280001", ()),
    ("eng-west-1", "黄强 Huang Qiang", Role.ENGINEER, "west", "13908280011", ("excavator", "hydraulics")),
    ("eng-west-2", "吴斌 Wu Bin", Role.ENGINEER, "west", "13908280012", ("excavator", "electrical")),
    ("eng-west-3", "郑涛 Zheng Tao", Role.ENGINEER, "west", "13908280013", ("crane", "engine", "hydraulics")),
]

DEMO_LOGINS: list[tuple[str, str, str]] = [(str(role), u, PASSWORDS[role]) for u, _, role, *_ in USERS]

# name, contact, phone (the caller id that pops the record)
CUSTOMERS = [
    ("上海建工机械施工有限公司", "陈经理", "13816200001"),
    ("浦东港城土方工程队", "朱师傅", "13816200002"),
    ("松江城建工程有限公司", "钱工", "13816200003"),
    ("嘉定鑫达机械租赁有限公司", "沈总", "13816200004"),
    ("崇明生态围垦工程项目部", "顾队长", "13816200005"),
    ("安吉绿源石料厂", "潘厂长", "13816200006"),
    ("成都路桥工程股份有限公司", "何经理", "13881900001"),
    ("双流宏远土石方工程队", "罗师傅", "13881900002"),
    ("天府建设机械租赁有限公司", "邓总", "13881900003"),
    ("都江堰水利工程处", "唐工", "13881900004"),
    ("雅安雅石矿业有限公司", "冯矿长", "13881900005"),
    ("简阳机场配套工程项目部", "蒋队长", "13881900006"),
]

# customer index, site name, address, zone, region, latitude, longitude
SITES = [
    (0, "世博片区地铁工地", "上海市浦东新区世博大道1500号", "city", "east", 31.187, 121.489),
    (0, "徐汇滨江道路改造", "上海市徐汇区龙腾大道2800号", "city", "east", 31.172, 121.461),
    (1, "外高桥港区堆场", "上海市浦东新区港建路1100号", "suburb", "east", 31.357, 121.588),
    (2, "松江新城安置房工地", "上海市松江区广富林路4800号", "suburb", "east", 31.055, 121.214),
    (3, "嘉定租赁设备场", "上海市嘉定区安亭镇墨玉路185号", "suburb", "east", 31.296, 121.162),
    (3, "青浦物流园工地", "上海市青浦区华新镇华志路1200号", "suburb", "east", 31.232, 121.205),
    (4, "东滩围垦一期", "上海市崇明区陈家镇东滩大道", "remote", "east", 31.512, 121.923),
    (5, "安吉石料矿区", "浙江省湖州市安吉县递铺镇石矿路8号", "remote", "east", 30.636, 119.681),
    (6, "天府大道南延线", "四川省成都市高新区天府大道南段1700号", "city", "west", 30.540, 104.068),
    (6, "金牛区管廊工程", "四川省成都市金牛区蜀汉路300号", "city", "west", 30.695, 104.042),
    (7, "双流机场物流区土方", "四川省成都市双流区西航港大道2000号", "suburb", "west", 30.566, 103.948),
    (8, "龙泉驿设备停放场", "四川省成都市龙泉驿区驿都大道88号", "suburb", "west", 30.560, 104.275),
    (8, "郫都工业园工地", "四川省成都市郫都区德源镇红旗大道", "suburb", "west", 30.781, 103.901),
    (9, "紫坪铺库区护岸", "四川省成都市都江堰市紫坪铺镇", "remote", "west", 31.020, 103.573),
    (10, "雅安石料矿", "四川省雅安市雨城区多营镇矿山路", "remote", "west", 29.985, 103.036),
    (11, "天府国际机场配套路网", "四川省成都市简阳市芦葭镇空港大道", "remote", "west", 30.319, 104.441),
]

# serial number, model, site index, warranty end in days from today (negative: expired), running hours
EQUIPMENT = [
    ("SY215C20E0113", "SY215C", 0, 420, 1860.5),
    ("SY75C21E0457", "SY75C", 1, 260, 940.0),
    ("SAC1200E190021", "SAC1200", 1, -95, 6120.0),
    ("SY365H19E0078", "SY365H", 2, -210, 9350.5),
    ("SY215C22E0902", "SY215C", 3, 610, 720.0),
    ("SY135C21E0315", "SY135C", 4, 150, 2410.0),
    ("SY75C18E0220", "SY75C", 4, -480, 8050.0),
    ("STC250E210066", "STC250", 5, 35, 3300.0),
    ("SY365H22E0511", "SY365H", 6, 500, 1120.5),
    ("SY500H20E0040", "SY500H", 7, -30, 7480.0),
    ("SY215C21W0188", "SY215C", 8, 330, 2050.0),
    ("SR285R20W0012", "SR285R", 9, -150, 5230.0),
    ("SY75C22W0733", "SY75C", 9, 700, 310.0),
    ("SY215C19W0064", "SY215C", 10, -365, 10240.0),
    ("SY135C22W0290", "SY135C", 11, 560, 880.0),
    ("SAC1200W210008", "SAC1200", 11, 120, 2760.0),
    ("SY365H21W0147", "SY365H", 12, 90, 4100.0),
    ("SY215C20W0391", "SY215C", 13, -60, 6890.5),
    ("SY500H22W0025", "SY500H", 14, 430, 1650.0),
    ("SY365H20W0402", "SY365H", 15, 5, 5980.0),
]

# code, name, line
QUEUES = [
    ("hotline", "故障热线 Fault hotline", "fault"),
    ("hotline-key", "大客户故障热线 Key accounts", "fault"),
    ("consultation", "咨询投诉热线 Consultation & complaints", "consultation"),
]


async def load_demo_data(uow: UnitOfWork, *, today: date) -> bool:
    """Write the demo data unless the database already has users; True if it wrote it.
    ``today`` (in the service center's time zone) anchors the warranty dates."""
    session = uow.session
    if (await session.exec(select(User.id).limit(1))).first() is not None:
        return False
    now = uow.now()
    # Argon2id is deliberately slow: hash each distinct password once, off the event loop.
    hashes = await asyncio.to_thread(lambda: {role: hash_password(pw) for role, pw in PASSWORDS.items()})

    regions = {code: Region(code=code, name=name) for code, name in REGIONS}
    session.add_all(regions.values())
    await session.flush()
    providers = {code: Provider(name=name, region_id=regions[code].id, phone=phone)
                 for code, name, phone in PROVIDERS}
    session.add_all(providers.values())
    await session.flush()

    session.add_all(
        User(username=username, display_name=display, role=str(role), password_hash=hashes[role],
             region_id=regions[region].id if region else None,
             provider_id=providers[region].id if region and role is Role.ENGINEER else None,
             phone=phone, skills=list(skills), created_at=now)
        for username, display, role, region, phone, skills in USERS
    )
    customers = [Customer(name=name, contact_name=contact, phone=phone, created_at=now)
                 for name, contact, phone in CUSTOMERS]
    session.add_all(customers)
    await session.flush()

    sites = [Site(customer_id=customers[c].id, name=name, address=address, zone=zone,
                  region_id=regions[region].id, latitude=lat, longitude=lon, phone=customers[c].phone)
             for c, name, address, zone, region, lat, lon in SITES]
    session.add_all(sites)
    await session.flush()

    session.add_all(
        Equipment(serial_number=serial, model=model, customer_id=sites[s].customer_id, site_id=sites[s].id,
                  warranty_end=today + timedelta(days=days), running_hours=hours)
        for serial, model, s, days, hours in EQUIPMENT
    )
    session.add_all(
        CallQueue(code=code, name=name, line=line, sl_threshold_s=20,
                  sl_formula="answered_within_over_offered")
        for code, name, line in QUEUES
    )
    await session.flush()
    return True
