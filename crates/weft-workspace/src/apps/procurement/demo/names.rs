//! The sample company's names: people, suppliers and the item catalogue, in Chinese and
//! English as a company in China writes them.

/// The company's domain: logins are `<name>@huadong.example` (a reserved domain).
pub const DOMAIN: &str = "huadong.example";
pub const COMPANY: &str = "华东精工机械有限公司 Huadong Precision Machinery";

/// A member of staff.
pub struct Person {
    pub key: &'static str,
    pub name: &'static str,
    pub login: &'static str,
    /// The org unit (by key) and whether the person heads it.
    pub unit: &'static str,
    pub heads: bool,
    pub roles: &'static [&'static str],
    /// Printed with a generated password; the others can be given one with
    /// `weft user reset-password`.
    pub sign_in: Option<&'static str>,
}

/// Org units: key, name, parent key.
pub const UNITS: [(&str, &str, Option<&str>); 5] = [
    ("company", "华东精工 Huadong Precision", None),
    ("purchasing", "采购部 Purchasing", Some("company")),
    ("finance", "财务部 Finance", Some("company")),
    ("warehouse", "仓储部 Warehouse", Some("company")),
    ("production", "生产部 Production", Some("company")),
];

const fn person(
    key: &'static str,
    name: &'static str,
    login: &'static str,
    unit: &'static str,
    heads: bool,
    roles: &'static [&'static str],
    sign_in: Option<&'static str>,
) -> Person {
    Person { key, name, login, unit, heads, roles, sign_in }
}

pub const PEOPLE: [Person; 10] = [
    person("gm", "周明 Zhou Ming", "zhou.ming", "company", true, &["employee"], None),
    person("admin", "Sarah Wilson", "sarah.wilson", "company", false, &["admin", "employee"], Some("administrator")),
    person(
        "manager",
        "张伟 Michael Zhang",
        "michael.zhang",
        "purchasing",
        true,
        &["employee"],
        Some("purchasing manager (approves orders)"),
    ),
    person("buyer", "李娜 Li Na", "li.na", "purchasing", false, &["employee"], Some("buyer")),
    person("buyer2", "James Wu 吴杰", "james.wu", "purchasing", false, &["employee"], None),
    person(
        "finance",
        "陈静 Chen Jing",
        "chen.jing",
        "finance",
        true,
        &["employee", "finance_approver"],
        Some("finance approver"),
    ),
    person("accountant", "Emily Carter", "emily.carter", "finance", false, &["employee"], None),
    person("warehouse_head", "孙涛 Sun Tao", "sun.tao", "warehouse", true, &["employee"], None),
    person(
        "clerk",
        "赵磊 Zhao Lei",
        "zhao.lei",
        "warehouse",
        false,
        &["employee"],
        Some("warehouse clerk (books receipts)"),
    ),
    person("production", "刘洋 Liu Yang", "liu.yang", "production", true, &["employee"], None),
];

/// A supplier: legal name, short name, the slug of its portal contact's login, category,
/// city, and its contact's name.
pub struct Supplier {
    pub name: &'static str,
    pub short: &'static str,
    pub slug: &'static str,
    pub category: &'static str,
    pub city: &'static str,
    pub contact: &'static str,
}

const fn s(
    name: &'static str,
    short: &'static str,
    slug: &'static str,
    category: &'static str,
    city: &'static str,
    contact: &'static str,
) -> Supplier {
    Supplier { name, short, slug, category, city, contact }
}

/// Forty suppliers; the first eight (one or two per everyday category) make the small scale.
/// The first two have portal sign-ins printed.
pub const SUPPLIERS: [Supplier; 40] = [
    s("苏州精密五金有限公司", "苏州精密五金", "suzhou-precision", "components", "苏州 Suzhou", "王芳 Wang Fang"),
    s("Baoshan Steel Trading Co., Ltd.", "Baoshan Steel", "baoshan-steel", "raw_material", "Shanghai", "Kevin Liu"),
    s(
        "深圳华强电子元器件有限公司",
        "华强电子",
        "huaqiang-electronics",
        "electronics",
        "深圳 Shenzhen",
        "黄磊 Huang Lei",
    ),
    s("上海紫江包装材料有限公司", "紫江包装", "zijiang-packaging", "packaging", "上海 Shanghai", "徐丽 Xu Li"),
    s("Grainger Industrial Supply (Shanghai)", "Grainger Shanghai", "grainger-sh", "mro", "Shanghai", "Anna Schmidt"),
    s("江阴兴澄特种钢材有限公司", "兴澄特钢", "xingcheng-steel", "raw_material", "江阴 Jiangyin", "陆强 Lu Qiang"),
    s("Wuxi Bearing Works Co., Ltd.", "Wuxi Bearing", "wuxi-bearing", "components", "Wuxi", "Peter Zhou"),
    s("顺丰速运有限公司", "顺丰速运", "sf-express", "services", "深圳 Shenzhen", "何静 He Jing"),
    s(
        "Ningbo Aluminium Profiles Co., Ltd.",
        "Ningbo Aluminium",
        "ningbo-aluminium",
        "raw_material",
        "Ningbo",
        "Grace Chen",
    ),
    s("佛山南海铝型材厂", "南海铝材", "nanhai-aluminium", "raw_material", "佛山 Foshan", "梁伟 Liang Wei"),
    s("Shanghai Polymer Resins Ltd.", "Shanghai Polymer", "sh-polymer", "raw_material", "Shanghai", "Daniel Ma"),
    s("天津大港塑料原料有限公司", "大港塑料", "dagang-plastics", "raw_material", "天津 Tianjin", "孙丽 Sun Li"),
    s("Anhui Copper Wire & Cable Co.", "Anhui Copper", "anhui-copper", "raw_material", "Hefei", "Frank Wang"),
    s("唐山建龙钢铁贸易有限公司", "建龙钢铁", "jianlong-steel", "raw_material", "唐山 Tangshan", "赵刚 Zhao Gang"),
    s("宁波东方紧固件有限公司", "东方紧固件", "dongfang-fasteners", "components", "宁波 Ningbo", "周敏 Zhou Min"),
    s("Changzhou Gear & Transmission Co.", "Changzhou Gear", "cz-gear", "components", "Changzhou", "Robert Sun"),
    s("浙江恒力液压件有限公司", "恒力液压", "hengli-hydraulics", "components", "杭州 Hangzhou", "吴斌 Wu Bin"),
    s(
        "Dongguan Die Casting Co., Ltd.",
        "Dongguan Die Casting",
        "dg-diecasting",
        "components",
        "Dongguan",
        "Lily Huang",
    ),
    s("青岛海达橡胶密封件厂", "海达密封", "haida-seals", "components", "青岛 Qingdao", "韩冬 Han Dong"),
    s("Xiamen Spring Manufacturing Co.", "Xiamen Spring", "xm-spring", "components", "Xiamen", "Vincent Lin"),
    s("温州正泰阀门有限公司", "正泰阀门", "zhengtai-valves", "components", "温州 Wenzhou", "郑洁 Zheng Jie"),
    s("Shenzhen Bright LED Technology Co.", "Bright LED", "bright-led", "electronics", "Shenzhen", "Jason Li"),
    s("Kunshan PCB Assembly Ltd.", "Kunshan PCB", "kunshan-pcb", "electronics", "Kunshan", "Helen Xu"),
    s("上海汇川驱动技术有限公司", "汇川驱动", "huichuan-drives", "electronics", "上海 Shanghai", "钱进 Qian Jin"),
    s("Hangzhou Sensor Systems Co., Ltd.", "Hangzhou Sensor", "hz-sensor", "electronics", "Hangzhou", "Michelle Gao"),
    s("厦门宏发继电器有限公司", "宏发继电器", "hongfa-relays", "electronics", "厦门 Xiamen", "林涛 Lin Tao"),
    s("Chengdu Power Supply Co.", "Chengdu Power", "cd-power", "electronics", "Chengdu", "Eric Deng"),
    s("Guangzhou Carton & Print Co.", "Guangzhou Carton", "gz-carton", "packaging", "Guangzhou", "Sophie Ye"),
    s("昆山木托盘制品厂", "昆山托盘", "kunshan-pallets", "packaging", "昆山 Kunshan", "马超 Ma Chao"),
    s("Tianjin Stretch Film Ltd.", "Tianjin Film", "tj-film", "packaging", "Tianjin", "Oliver Guo"),
    s("东莞泡沫包装有限公司", "东莞泡沫", "dg-foam", "packaging", "东莞 Dongguan", "袁梅 Yuan Mei"),
    s("西域智慧供应链有限公司", "西域供应链", "xiyu-supply", "mro", "上海 Shanghai", "许峰 Xu Feng"),
    s("Wuhan Cutting Tools Co.", "Wuhan Tools", "wh-tools", "mro", "Wuhan", "Henry Tang"),
    s("上海劳保用品有限公司", "上海劳保", "sh-safety", "mro", "上海 Shanghai", "方琳 Fang Lin"),
    s("Suzhou Lubricants & Chemicals Co.", "Suzhou Lubricants", "sz-lubricants", "mro", "Suzhou", "Tina Qiu"),
    s("SGS-CSTC Standards Technical Services", "SGS", "sgs-cstc", "services", "Shanghai", "Mark Evans"),
    s("苏州设备维修服务有限公司", "苏州设备维修", "sz-maintenance", "services", "苏州 Suzhou", "蒋勇 Jiang Yong"),
    s("DMG MORI (Shanghai) Machine Tools", "DMG MORI", "dmg-mori", "capex", "Shanghai", "Thomas Keller"),
    s("沈阳机床股份有限公司", "沈阳机床", "smtcl", "capex", "沈阳 Shenyang", "高峰 Gao Feng"),
    s("Haas Automation Asia", "Haas Asia", "haas-asia", "capex", "Shanghai", "Brian Scott"),
];

/// A family of items: category, Chinese and English name, unit, price range (CNY, per unit),
/// a quantity range per order line, and the variants (one item each).
pub struct Family {
    pub category: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub uom: &'static str,
    pub price: (u32, u32),
    pub qty: (u32, u32),
    pub variants: &'static [&'static str],
}

const fn f(
    category: &'static str,
    zh: &'static str,
    en: &'static str,
    uom: &'static str,
    price: (u32, u32),
    qty: (u32, u32),
    variants: &'static [&'static str],
) -> Family {
    Family { category, zh, en, uom, price, qty, variants }
}

/// Enough families for 200 items (and more); the loader takes them round-robin by category.
pub const FAMILIES: &[Family] = &[
    f(
        "raw_material",
        "冷轧钢板",
        "Cold-rolled steel sheet",
        "kg",
        (5, 9),
        (500, 5000),
        &["0.8 mm", "1.0 mm", "1.2 mm", "1.5 mm", "2.0 mm", "2.5 mm", "3.0 mm", "4.0 mm"],
    ),
    f(
        "raw_material",
        "不锈钢棒 304",
        "Stainless steel bar 304",
        "kg",
        (18, 32),
        (200, 2000),
        &["Ø8", "Ø10", "Ø12", "Ø16", "Ø20", "Ø25", "Ø30", "Ø40"],
    ),
    f(
        "raw_material",
        "铝型材 6063",
        "Aluminium profile 6063",
        "m",
        (12, 45),
        (200, 3000),
        &["20×20", "20×40", "30×30", "30×60", "40×40", "40×80", "45×90"],
    ),
    f(
        "raw_material",
        "电解铜线",
        "Copper wire",
        "kg",
        (60, 78),
        (100, 1500),
        &["1.0 mm²", "1.5 mm²", "2.5 mm²", "4 mm²", "6 mm²", "10 mm²"],
    ),
    f(
        "raw_material",
        "ABS 颗粒",
        "ABS resin pellets",
        "kg",
        (11, 16),
        (500, 5000),
        &["natural", "black", "white", "flame-retardant"],
    ),
    f(
        "raw_material",
        "PP 颗粒",
        "PP resin pellets",
        "kg",
        (8, 12),
        (500, 5000),
        &["homopolymer", "copolymer", "glass-filled 30 %", "talc-filled 20 %"],
    ),
    f(
        "raw_material",
        "镀锌钢管",
        "Galvanised steel pipe",
        "m",
        (15, 60),
        (100, 1200),
        &["DN15", "DN20", "DN25", "DN32", "DN40", "DN50"],
    ),
    f("raw_material", "铝板 5052", "Aluminium sheet 5052", "kg", (22, 30), (200, 2000), &["2 mm", "3 mm", "5 mm"]),
    f("raw_material", "45# 圆钢", "C45 round bar", "kg", (5, 8), (500, 4000), &["Ø25", "Ø50", "Ø80"]),
    f(
        "components",
        "深沟球轴承",
        "Deep groove ball bearing",
        "pcs",
        (6, 60),
        (100, 2000),
        &["6202-2RS", "6204-2RS", "6205-2RS", "6206-2RS", "6208-2RS", "6305-ZZ", "6308-ZZ"],
    ),
    f(
        "components",
        "外六角螺栓 8.8 级",
        "Hex bolt grade 8.8",
        "pcs",
        (1, 4),
        (1000, 20000),
        &["M6×20", "M8×25", "M8×40", "M10×30", "M10×50", "M12×50", "M16×60", "M20×80"],
    ),
    f(
        "components",
        "直齿轮",
        "Spur gear",
        "pcs",
        (45, 260),
        (20, 400),
        &["m1.5 z24", "m2 z20", "m2 z40", "m3 z30", "m3 z60", "m4 z50"],
    ),
    f("components", "液压缸", "Hydraulic cylinder", "pcs", (680, 2600), (5, 60), &["Ø50×200", "Ø63×300", "Ø80×400"]),
    f(
        "components",
        "O 型圈 NBR",
        "NBR O-ring",
        "pcs",
        (1, 3),
        (1000, 10000),
        &["10×1.5", "20×2", "30×2.5", "40×3", "60×3.5", "100×5"],
    ),
    f(
        "components",
        "铝压铸壳体",
        "Die-cast aluminium housing",
        "pcs",
        (85, 320),
        (50, 800),
        &["GH-80", "GH-100", "GH-160", "GH-200", "GH-250"],
    ),
    f(
        "components",
        "压缩弹簧",
        "Compression spring",
        "pcs",
        (1, 6),
        (500, 8000),
        &["1.0×10×30", "2.0×16×50", "3.0×25×80"],
    ),
    f("components", "不锈钢球阀", "Stainless ball valve", "pcs", (60, 380), (20, 300), &["DN15", "DN25", "DN50"]),
    f("components", "梅花联轴器", "Jaw coupling", "pcs", (35, 150), (20, 300), &["L070", "L095", "L110"]),
    f("components", "同步带", "Timing belt", "pcs", (25, 120), (20, 400), &["HTD 5M-450", "HTD 8M-800"]),
    f(
        "electronics",
        "贴片电阻 0805",
        "SMD resistor 0805",
        "box",
        (15, 30),
        (10, 200),
        &["100 Ω", "1 kΩ", "4.7 kΩ", "10 kΩ", "100 kΩ"],
    ),
    f(
        "electronics",
        "贴片电容 0805",
        "SMD capacitor 0805",
        "box",
        (20, 45),
        (10, 200),
        &["10 nF", "100 nF", "1 µF", "4.7 µF", "10 µF"],
    ),
    f(
        "electronics",
        "LED 灯珠 5050",
        "LED 5050",
        "box",
        (40, 90),
        (10, 150),
        &["warm white", "neutral white", "cool white", "RGB"],
    ),
    f(
        "electronics",
        "控制板 PCBA",
        "Control board PCBA",
        "pcs",
        (180, 650),
        (20, 500),
        &["CB-01", "CB-02", "CB-05 display", "PB-10 power board", "IO-16 I/O board"],
    ),
    f(
        "electronics",
        "变频器",
        "Frequency inverter",
        "pcs",
        (950, 4200),
        (2, 40),
        &["0.75 kW", "2.2 kW", "5.5 kW", "11 kW"],
    ),
    f(
        "electronics",
        "接近传感器",
        "Proximity sensor",
        "pcs",
        (45, 160),
        (20, 400),
        &["M8 PNP", "M12 PNP", "M12 NPN", "M18 NPN", "M30 PNP"],
    ),
    f("electronics", "中间继电器", "Relay", "pcs", (12, 48), (50, 1000), &["5 V DC", "12 V DC", "24 V DC", "230 V AC"]),
    f(
        "electronics",
        "开关电源",
        "Switching power supply",
        "pcs",
        (85, 420),
        (10, 200),
        &["24 V 5 A", "24 V 10 A", "12 V 20 A"],
    ),
    f("electronics", "伺服电机", "Servo motor", "set", (1800, 6800), (2, 30), &["400 W", "750 W", "1.5 kW"]),
    f(
        "packaging",
        "五层瓦楞纸箱",
        "Five-ply corrugated carton",
        "pcs",
        (3, 12),
        (500, 8000),
        &["300×200×200", "400×300×300", "500×400×300", "600×400×400", "800×600×500"],
    ),
    f(
        "packaging",
        "熏蒸木托盘",
        "Fumigated wooden pallet",
        "pcs",
        (55, 120),
        (50, 600),
        &["1200×1000", "1200×800", "1100×1100"],
    ),
    f("packaging", "缠绕膜", "Stretch film", "kg", (11, 16), (100, 1500), &["500 mm × 23 µm", "500 mm × 30 µm"]),
    f(
        "packaging",
        "EPE 珍珠棉内衬",
        "EPE foam insert",
        "pcs",
        (2, 9),
        (500, 6000),
        &["type A", "type B", "type C", "type D", "type E"],
    ),
    f("packaging", "封箱胶带", "Packing tape", "box", (60, 110), (10, 120), &["48 mm clear", "48 mm printed"]),
    f("packaging", "防潮标签", "Moisture label", "box", (30, 70), (10, 80), &["60×40", "100×50", "100×150"]),
    f(
        "mro",
        "硬质合金立铣刀",
        "Carbide end mill",
        "pcs",
        (45, 280),
        (10, 200),
        &["Ø4", "Ø6", "Ø8", "Ø10", "Ø12", "Ø16", "Ø20"],
    ),
    f("mro", "麻花钻头", "Twist drill", "pcs", (8, 60), (20, 400), &["Ø3.3", "Ø5", "Ø6.8", "Ø8.5", "Ø10.2", "Ø14"]),
    f("mro", "劳保手套", "Work gloves", "box", (80, 160), (5, 60), &["nitrile-coated", "cut-resistant"]),
    f("mro", "安全鞋", "Safety shoes", "pcs", (120, 320), (10, 80), &["size 38", "size 40", "size 42", "size 44"]),
    f("mro", "液压油", "Hydraulic oil", "l", (14, 28), (200, 2000), &["L-HM 32", "L-HM 46", "L-HM 68"]),
    f("mro", "切削液", "Cutting fluid", "l", (18, 40), (100, 1000), &["semi-synthetic", "fully synthetic"]),
    f("mro", "砂轮片", "Grinding wheel", "pcs", (6, 40), (50, 800), &["100 mm", "125 mm", "180 mm"]),
    f(
        "services",
        "干线物流运输",
        "Line-haul freight",
        "h",
        (180, 320),
        (8, 120),
        &["Suzhou–Shanghai", "Suzhou–Shenzhen", "Suzhou–Ningbo port"],
    ),
    f("services", "第三方检测服务", "Third-party inspection", "h", (350, 800), (8, 60), &["incoming", "pre-shipment"]),
    f("services", "设备维修保养", "Equipment maintenance", "h", (220, 450), (8, 80), &["CNC", "press", "compressor"]),
    f("services", "计量校准", "Calibration", "h", (260, 520), (4, 40), &["gauges", "torque tools", "CMM"]),
    f("capex", "立式加工中心", "Vertical machining centre", "set", (280_000, 460_000), (1, 2), &["VMC850", "VMC1160"]),
    f("capex", "数控车床", "CNC lathe", "set", (160_000, 300_000), (1, 2), &["CK6150", "CK6163"]),
    f("capex", "螺杆空压机", "Screw air compressor", "set", (42_000, 98_000), (1, 2), &["22 kW", "37 kW", "55 kW"]),
    f("capex", "电动叉车", "Electric forklift", "set", (88_000, 160_000), (1, 2), &["1.5 t", "2 t", "3 t"]),
];

/// Carriers for shipping notices.
pub const CARRIERS: [(&str, &str); 6] = [
    ("顺丰速运 SF Express", "SF"),
    ("德邦物流 Deppon", "DPK"),
    ("中通快运 ZTO Freight", "ZTO"),
    ("京东物流 JD Logistics", "JDL"),
    ("安能物流 ANE", "ANE"),
    ("DHL Global Forwarding", "DHL"),
];

/// Why a lot was partly refused at receipt or failed QC.
pub const DEFECTS: [&str; 6] = [
    "表面划伤 surface scratches",
    "尺寸超差 out of tolerance",
    "毛刺 burrs on edges",
    "包装破损 damaged packaging",
    "硬度不足 hardness below spec",
    "锈蚀 rust spots",
];

/// Why a buyer accepted an invoice's price difference.
pub const ACCEPT_REASONS: [&str; 4] = [
    "原材料涨价已电话确认 Raw material surcharge agreed by phone",
    "加急费用已批准 Expedite fee approved",
    "汇率调整 Exchange-rate adjustment per contract",
    "小批量附加费 Small-lot surcharge agreed",
];
