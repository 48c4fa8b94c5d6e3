"""Fixed vocabulary of the synthetic listing generator (see `zeta_serving.synth`).

Everything here is plain data: canonical tags with the surface forms sellers write,
condition wording, description sentences and the pieces used to coin new words.
"""

from __future__ import annotations

import unicodedata

# --- relative popularity and price level of the top-level categories (yen, typical listing)
TOP_WEIGHT = {
    "ファッション": 26, "ゲーム・おもちゃ・グッズ": 12, "コスメ・美容": 7, "ベビー・キッズ": 6,
    "本・雑誌・漫画": 5, "スマホ・タブレット・パソコン": 5, "キッチン・日用品・その他": 5,
    "ホビー・楽器・アート": 4, "スポーツ": 4, "家具・インテリア": 3, "テレビ・オーディオ・カメラ": 3,
    "アウトドア・釣り・旅行用品": 3, "ハンドメイド・手芸": 3, "CD・DVD・ブルーレイ": 2.5,
    "生活家電・空調": 2.5, "車・バイク・自転車": 2, "ダイエット・健康": 1.5, "ペット用品": 1.5,
    "チケット": 1.5, "DIY・工具": 1.5, "フラワー・ガーデニング": 1, "食品・飲料・酒": 1,
}
TOP_BASE_PRICE = {
    "ファッション": 3500, "ゲーム・おもちゃ・グッズ": 2500, "コスメ・美容": 2000, "ベビー・キッズ": 2000,
    "本・雑誌・漫画": 700, "スマホ・タブレット・パソコン": 12000, "キッチン・日用品・その他": 1500,
    "ホビー・楽器・アート": 4500, "スポーツ": 4000, "家具・インテリア": 6000,
    "テレビ・オーディオ・カメラ": 15000, "アウトドア・釣り・旅行用品": 4500, "ハンドメイド・手芸": 1500,
    "CD・DVD・ブルーレイ": 1200, "生活家電・空調": 8000, "車・バイク・自転車": 7000,
    "ダイエット・健康": 2500, "ペット用品": 1800, "チケット": 9000, "DIY・工具": 4000,
    "フラワー・ガーデニング": 2000, "食品・飲料・酒": 2500,
}
# probability that an attribute of this kind is present, by top-level
TOP_COLOUR_P = {
    "ファッション": 0.55, "ベビー・キッズ": 0.4, "家具・インテリア": 0.4, "スマホ・タブレット・パソコン": 0.4,
    "スポーツ": 0.35, "アウトドア・釣り・旅行用品": 0.3, "生活家電・空調": 0.3, "ハンドメイド・手芸": 0.3,
    "車・バイク・自転車": 0.25, "テレビ・オーディオ・カメラ": 0.25, "キッチン・日用品・その他": 0.25,
    "ペット用品": 0.2, "ホビー・楽器・アート": 0.15, "ゲーム・おもちゃ・グッズ": 0.1, "コスメ・美容": 0.1,
    "DIY・工具": 0.1, "ダイエット・健康": 0.1, "フラワー・ガーデニング": 0.1,
}
TOP_MODEL_P = {
    "スマホ・タブレット・パソコン": 0.5, "テレビ・オーディオ・カメラ": 0.5, "生活家電・空調": 0.5,
    "車・バイク・自転車": 0.4, "DIY・工具": 0.45, "アウトドア・釣り・旅行用品": 0.25, "スポーツ": 0.2,
    "ホビー・楽器・アート": 0.25, "ゲーム・おもちゃ・グッズ": 0.1, "ファッション": 0.08,
}
# log-price adjustment for leaves whose path contains a word
KEYWORD_LOGPRICE = {
    "本体": 1.2, "ノートPC": 1.0, "デスクトップPC": 1.0, "一眼": 1.0, "レンズ": 0.7, "腕時計": 0.6,
    "ソファ": 0.6, "ベッド": 0.5, "自転車本体": 1.0, "ケース": -0.6, "カバー": -0.6, "シール": -0.8,
    "ステッカー": -0.8, "キーホルダー": -0.6, "缶バッジ": -0.8, "ストラップ": -0.6, "フィルム": -0.7,
    "ケーブル": -0.6, "ソフト": -0.3, "切り抜き": -0.9, "ポストカード": -0.9,
}

# --- tags: canonical name -> surface forms (the first is the canonical spelling)
COLOURS = [  # (tag, surfaces, weight)
    ("ブラック", ("ブラック", "黒", "BLACK", "black", "ﾌﾞﾗｯｸ"), 0.20),
    ("ホワイト", ("ホワイト", "白", "WHITE", "white", "ﾎﾜｲﾄ"), 0.14),
    ("グレー", ("グレー", "グレイ", "灰色", "GRAY"), 0.08),
    ("ネイビー", ("ネイビー", "紺", "NAVY", "紺色"), 0.08),
    ("ブラウン", ("ブラウン", "茶色", "BROWN"), 0.07),
    ("ベージュ", ("ベージュ", "BEIGE"), 0.07),
    ("ピンク", ("ピンク", "PINK"), 0.06),
    ("ブルー", ("ブルー", "青", "BLUE"), 0.06),
    ("レッド", ("レッド", "赤", "RED"), 0.05),
    ("グリーン", ("グリーン", "緑", "GREEN"), 0.04),
    ("カーキ", ("カーキ", "KHAKI"), 0.03),
    ("シルバー", ("シルバー", "銀色", "SILVER"), 0.03),
    ("イエロー", ("イエロー", "黄色", "YELLOW"), 0.03),
    ("ゴールド", ("ゴールド", "金色", "GOLD"), 0.02),
    ("パープル", ("パープル", "紫", "PURPLE"), 0.02),
    ("オレンジ", ("オレンジ", "ORANGE"), 0.02),
    ("マルチカラー", ("マルチカラー", "マルチ"), 0.01),
]
MATERIALS = {
    "レザー": ("レザー", "本革", "牛革", "LEATHER"), "コットン": ("コットン", "綿100%", "COTTON"),
    "ウール": ("ウール", "WOOL", "ウール100%"), "カシミヤ": ("カシミヤ", "カシミア"),
    "リネン": ("リネン", "麻", "リネン100%"), "ポリエステル": ("ポリエステル",),
    "ナイロン": ("ナイロン", "NYLON"), "シルク": ("シルク", "絹"), "キャンバス": ("キャンバス", "帆布"),
    "スエード": ("スエード", "スウェード"), "エナメル": ("エナメル",),
    "シルバー925": ("シルバー925", "SV925", "silver925"), "K18": ("K18", "18金", "18K"),
    "プラチナ": ("プラチナ", "Pt900"), "ステンレス": ("ステンレス", "SUS", "ステンレス製"),
    "チタン": ("チタン", "チタン製"), "木製": ("木製", "天然木", "ウッド"), "ガラス": ("ガラス", "ガラス製"),
    "陶器": ("陶器", "陶磁器"), "鉄": ("鉄製", "鋳鉄"), "ラタン": ("ラタン", "籐"),
    "アルミ": ("アルミ", "アルミ製", "アルミニウム"), "カーボン": ("カーボン", "CARBON"),
}
MATERIAL_GROUPS = [
    ("コットン", "ウール", "ポリエステル", "カシミヤ", "リネン", "ナイロン", "シルク", "レザー"),  # clothes
    ("レザー", "ナイロン", "キャンバス", "スエード", "エナメル"),  # bags, shoes, small goods
    ("シルバー925", "K18", "ステンレス", "プラチナ", "チタン"),  # jewellery, watches
    ("木製", "ステンレス", "ガラス", "陶器", "鉄", "ラタン"),  # home
    ("アルミ", "ナイロン", "カーボン", "チタン", "ステンレス"),  # gear
]
LETTER_SIZES = (("XS", 0.05), ("S", 0.2), ("M", 0.3), ("L", 0.25), ("XL", 0.12), ("XXL", 0.04),
                ("フリーサイズ", 0.04))
FREE_SIZE_SURFACES = ("フリーサイズ", "FREE", "フリー")

CONDITION_TAGS = {  # tag -> surfaces
    "新品未使用": ("新品未使用", "新品・未使用", "未使用新品"),
    "美品": ("美品", "極美品"),
    "ジャンク": ("ジャンク", "ジャンク品"),
}
BUNDLE_TAG = "まとめ売り"
BUNDLE_SURFACES = ("まとめ売り", "点セット", "点まとめ")

FEATURES = {
    "ファッション": ("ヴィンテージ", "古着", "完売品", "限定モデル", "韓国ファッション"),
    "ゲーム・おもちゃ・グッズ": ("限定版", "特典付き", "非売品", "初回限定", "レア"),
    "コスメ・美容": ("限定色", "数量限定", "残量9割以上", "デパコス", "プチプラ"),
    "本・雑誌・漫画": ("初版", "帯付き", "全巻セット", "絶版", "サイン本"),
    "CD・DVD・ブルーレイ": ("初回限定盤", "帯付き", "特典付き", "廃盤", "国内盤"),
    "チケット": ("連番", "前方席", "先行販売", "ペアチケット", "当日券"),
    "スマホ・タブレット・パソコン": ("SIMフリー", "動作確認済み", "箱付き", "128GB", "256GB"),
    "テレビ・オーディオ・カメラ": ("動作確認済み", "箱付き", "4K対応", "Bluetooth対応", "レンズキット"),
    "生活家電・空調": ("動作確認済み", "箱付き", "2023年製", "省エネ", "リモコン付き"),
    "家具・インテリア": ("北欧", "組立済み", "大型", "アンティーク", "収納付き"),
    "キッチン・日用品・その他": ("北欧", "業務用", "大容量", "日本製", "箱付き"),
    "スポーツ": ("公式球", "練習用", "ジュニア", "日本製", "限定モデル"),
    "アウトドア・釣り・旅行用品": ("キャンプ", "軽量", "防水", "ソロキャンプ", "大容量"),
    "ホビー・楽器・アート": ("ヴィンテージ", "初心者向け", "ハードケース付き", "絶版", "限定品"),
    "ハンドメイド・手芸": ("ハンドメイド", "一点物", "オーダー可", "天然石", "受注生産"),
    "ベビー・キッズ": ("男の子", "女の子", "お揃い", "出産祝い", "日本製"),
    "ペット用品": ("小型犬", "中型犬", "猫用", "消耗品", "大容量"),
    "ダイエット・健康": ("国産", "無添加", "賞味期限", "医療用", "大容量"),
    "フラワー・ガーデニング": ("国産", "無農薬", "鉢付き", "多年草", "寄せ植え"),
    "食品・飲料・酒": ("国産", "無添加", "賞味期限", "お中元", "産地直送"),
    "車・バイク・自転車": ("純正", "社外品", "適合確認済み", "当時物", "新車外し"),
    "DIY・工具": ("充電式", "コードレス", "バッテリー付き", "業務用", "日本製"),
}

# Product lines before any drift; each is tied to one top-level by a stable hash.
SERIES = (
    "エアマックス エアフォース クラシック オリジナルス ヘリテージ プレミアム スタンダード ベーシック "
    "エッセンシャル シグネチャー モノグラム アーバン コンフォート アクティブ ハイブリッド エボリューション "
    "レガシー エリート マスター プライム フレックス エッジ ノヴァ ルミナス ブリーズ エアリー シルキー "
    "ピュア スプリーム ロイヤル インペリアル エクストラ グランデ デラックス コンパクト スリム ワイド "
    "ミニマル モダン レトロ アドバンス フロンティア ホライゾン パイオニア エクスプローラー トラベラー "
    "ランナー ストリーム ウェーブ サミット オーロラ ギャラクシー コスモ ステラ ソレイユ ルナ フルール "
    "ブロッサム ミスト クラウド ストーム サンダー ブレイズ フレイム フロスト グレイシャー オアシス ジェム "
    "クリスタル ダイヤモンド オニキス サファイア ルビー エメラルド トパーズ オパール アンバー ベルベット "
    "ソフトシェル ハードシェル ドライテック ヒートキープ クールフィット ライトウェイト プロテクト "
    "セーフガード タフネス ストロング アイアンクラッド スピードスター トルネード ハリケーン サイクロン "
    "フェニックス ドラゴン タイガー イーグル ファルコン ウルフ パンサー ライオンハート ユニコーン ペガサス "
    "アトラス オリオン シリウス ベガ アルテミス アポロ ヘルメス ミネルバ ヴィーナス ジュピター "
    "PRO LITE MAX PLUS MINI ULTRA ELITE PRIME NEO EVO ZERO AIR SPORT CLASSIC URBAN ORIGIN FUSION "
    "VERTEX APEX NOVA PULSE FLOW CORE EDGE FLEX BOOST SWIFT STORM TITAN ECHO ZENITH ALPHA OMEGA "
    "SIGMA DELTA GAMMA LUXE"
).split()

# Common shortenings sellers use (applied to the item noun now and then).
SHORTENINGS = {
    "ワンピース": "ワンピ", "カーディガン": "カーデ", "スマートフォン": "スマホ", "パーカー": "パーカ",
    "ジャケット": "JKT", "ファンデーション": "ファンデ", "アクセサリー": "アクセ", "キャミソール": "キャミ",
    "トートバッグ": "トート", "ショルダーバッグ": "ショルダー", "リュックサック": "リュック",
    "プレイステーション": "PS", "ノートパソコン": "ノートPC", "ぬいぐるみ": "ぬい", "ブラジャー": "ブラ",
    "トレーナー": "トレナー", "スウェット": "スエット", "Tシャツ": "Tee",
}

# --- name pieces
COND_NAME_WORDS = {  # neutral words: never contain a condition tag's surface
    1: ("新品", "未使用", "未開封", "新品タグ付き", "未使用品"),
    2: ("未使用に近い", "ほぼ新品", "ほぼ未使用"),
    3: ("良品", "USED", "中古"),
    4: ("USED", "中古", "訳あり"),
    5: ("訳あり", "難あり", "中古"),
    6: ("難あり", "動作未確認", "現状品"),
}
PROMO_WORDS = ("値下げ", "即購入OK", "匿名配送", "早い者勝ち", "最終価格", "大幅値下げ", "お値下げ")
SHIP_PROMO = "送料無料"
CLOSING_WORD = "即購入OK"
BRACKETS = (("【", "】", 0.5), ("[", "]", 0.12), ("《", "》", 0.05), ("★", "★", 0.08),
            ("(", ")", 0.05), ("＼", "／", 0.03), ("", "", 0.17))

# --- description sentences
GREETINGS = ("ご覧いただきありがとうございます。", "ご覧頂きありがとうございます。",
             "閲覧ありがとうございます。", "はじめまして。")
ITEM_BRAND = ("{brand}の{noun}です。", "{brand}の{noun}を出品します。", "{brand}で購入した{noun}です。")
ITEM_PLAIN = ("{noun}になります。", "数年前に購入した{noun}です。", "{noun}の出品です。")
COND_SENTENCES = {  # condition -> (neutral sentences, sentences naming the condition tag)
    1: (("購入後未開封のまま保管していました。", "一度も使用していません。", "タグ付きのまま保管していました。"),
        ("新品未使用です。", "新品・未使用品です。", "新品未使用のまま自宅保管していました。")),
    2: (("試着のみです。", "購入後一度だけ使用しました。", "ほぼ未使用の状態です。"),
        ("試着のみの美品です。", "数回使用しただけの美品です。")),
    3: (("購入後数回使用しました。", "目立った傷や汚れはありません。", "数回使用しましたが綺麗な状態です。"),
        ("数回使用した程度の美品です。", "目立った傷もなく美品です。")),
    4: (("使用感があります。", "やや傷や汚れがあります。", "小さな傷があります。"), ()),
    5: (("傷や汚れがあります。", "使用に伴う汚れがあります。ご理解のある方のみお願いします。"), ()),
    6: (("全体的に状態が悪いです。", "動作未確認です。現状渡しとなります。", "部品取りにどうぞ。"),
        ("ジャンク品としてお譲りします。", "動作未確認のためジャンク扱いです。")),
}
SIZE_FEEL = ("サイズ感は普通です。", "サイズ感はやや大きめです。", "サイズ感は小さめです。",
             "サイズ感は標準だと思います。")
HOME = ("ペット・喫煙者なしの家庭です。", "ペットなし、喫煙者なしです。",
        "自宅保管品のためご理解のある方のみお願いします。", "素人保管のためご了承ください。")
CLOSING = ("即購入OKです。", "値下げ交渉可能です。", "ご質問があればお気軽にどうぞ。", "よろしくお願いします。",
           "他にも出品していますのでぜひご覧ください。")
ATTR_LABELS = {"colour": ("カラー", "色"), "size": ("サイズ",), "material": ("素材",),
               "series": ("シリーズ", "モデル"), "feature": ("特徴", "備考")}

# --- coining never-seen words (vocabulary drift)
COIN_KANA = ("ゾ ヴァ ヴィ ヴォ ズィ ティ ディ ファ フィ フォ クォ グ ザ ジョ ヌ ネ ノ ペ ポ ミ モ ユ ヨ ル ロ ワ "
             "キ ク サ ソ タ ト ナ ハ ベ ボ ラ リ レ ギュ ヒョ").split()
COIN_KANA_END = ("", "", "", "ン", "ス", "ア", "ル", "ー")
COIN_CONS = "bdfgklmnprstvzx"
COIN_VOWELS = "aeiou"

# --- katakana -> Latin (for the Latin spelling of brand names)
KANA_DIGRAPHS = {
    "キャ": "kya", "キュ": "kyu", "キョ": "kyo", "シャ": "sha", "シュ": "shu", "ショ": "sho", "シェ": "she",
    "チャ": "cha", "チュ": "chu", "チョ": "cho", "チェ": "che", "ニャ": "nya", "ニュ": "nyu", "ニョ": "nyo",
    "ヒャ": "hya", "ヒュ": "hyu", "ヒョ": "hyo", "ミャ": "mya", "ミュ": "myu", "ミョ": "myo", "リャ": "rya",
    "リュ": "ryu", "リョ": "ryo", "ギャ": "gya", "ギュ": "gyu", "ギョ": "gyo", "ジャ": "ja", "ジュ": "ju",
    "ジョ": "jo", "ジェ": "je", "ビャ": "bya", "ビュ": "byu", "ビョ": "byo", "ピャ": "pya", "ピュ": "pyu",
    "ピョ": "pyo", "ティ": "ti", "ディ": "di", "トゥ": "tu", "ドゥ": "du", "ファ": "fa", "フィ": "fi",
    "フェ": "fe", "フォ": "fo", "ウィ": "wi", "ウェ": "we", "ウォ": "wo", "ヴァ": "va", "ヴィ": "vi",
    "ヴェ": "ve", "ヴォ": "vo", "デュ": "dyu", "テュ": "tyu", "ツァ": "tsa", "クォ": "quo", "イェ": "ye",
}
KANA = dict(zip(
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
    "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポヴァィゥェォャュョ",
    "a i u e o ka ki ku ke ko sa shi su se so ta chi tsu te to na ni nu ne no ha hi fu he ho "
    "ma mi mu me mo ya yu yo ra ri ru re ro wa o n ga gi gu ge go za ji zu ze zo da ji zu de do "
    "ba bi bu be bo pa pi pu pe po vu a i u e o ya yu yo".split(),
))


# --- text helpers built on the tables above

def _half_table() -> dict[int, str]:
    half: dict[str, str] = {}
    for cp in range(0xFF66, 0xFF9E):
        full = unicodedata.normalize("NFKC", chr(cp))
        if len(full) == 1:
            half[full] = chr(cp)
    for cp in range(0x30A1, 0x30FB):
        parts = unicodedata.normalize("NFD", chr(cp))
        if len(parts) == 2 and parts[0] in half:
            half[chr(cp)] = half[parts[0]] + ("ﾞ" if parts[1] == "\u3099" else "ﾟ")
    return str.maketrans(half)


HALF_KANA = _half_table()  # str.translate table: full-width katakana -> half-width (ﾌﾞﾗｯｸ)
FULL_ASCII = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})  # M -> Ｍ


def romanize(text: str) -> str | None:
    """Latin spelling of a katakana brand name ("アーバン リサーチ" -> "ABAN RISACHI"), None if not katakana."""
    out: list[str] = []
    geminate = False
    i, s = 0, text.replace("・", " ").replace("\u3000", " ")
    while i < len(s):
        two, ch = s[i:i + 2], s[i]
        if two in KANA_DIGRAPHS:
            syl, i = KANA_DIGRAPHS[two], i + 2
        elif ch == "ッ":
            geminate, i = True, i + 1
            continue
        elif ch == "ー":
            i += 1
            continue
        elif ch in KANA:
            syl, i = KANA[ch], i + 1
        elif ch.isascii():
            syl, i = ch, i + 1
        else:
            return None
        if geminate and syl[:1].isalpha() and syl[0] not in "aeiou":
            syl = syl[0] + syl
        geminate = False
        out.append(syl)
    latin = " ".join("".join(out).split()).upper()
    return latin if any(c.isalpha() for c in latin) else None


def cm(v: float) -> str:
    """The canonical size tag of a length in cm: 27.0 -> "27cm", 24.5 -> "24.5cm"."""
    return f"{v:g}cm"


def _size_surfaces() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for tag, _ in LETTER_SIZES:
        out[tag] = FREE_SIZE_SURFACES if tag == "フリーサイズ" else (
            tag, f"{tag}サイズ", f"サイズ{tag}", tag.translate(FULL_ASCII))
    for v in (12.0 + 0.5 * k for k in range(35)):  # shoes, 12cm .. 29cm
        out[cm(v)] = tuple(dict.fromkeys((cm(v), f"{v:.1f}cm", f"{v:g}センチ", cm(v).translate(FULL_ASCII))))
    for v in (50, 60, 70, 80, 90, 95, 100, 110, 120, 130, 140, 150, 160):  # baby and kids clothes
        out[cm(v)] = (cm(v), f"{v}サイズ", str(v))
    return out


SIZE_SURFACES = _size_surfaces()  # size tag -> how sellers write it
