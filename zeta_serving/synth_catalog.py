"""Market knowledge of the synthetic generator: which brands sell what, at which prices.

Plain data, written from how these goods are sold second-hand in Japan (not fitted to
anything): a product line belongs to a brand and to the leaf categories it is really listed
in, has a typical used price in yen (condition "目立った傷や汚れなし"), a spread, and the words
sellers put in titles (model names, model numbers, storage, sizes, colours, rarities).
`zeta_serving.synth` draws a share of its listings from these lines; the rest come from the
generic generator over the whole category tree and brand list.
"""

from __future__ import annotations

from dataclasses import dataclass

F, B, K = "ファッション/", "ゲーム・おもちゃ・グッズ/", "コスメ・美容/"
P = "スマホ・タブレット・パソコン/"
WOMEN, MEN = F + "レディース/", F + "メンズ/"

# brand (as the listing's brand field carries it) -> how sellers write it in a title; "" leaves it out
BRANDS = {
    "ルイ ヴィトン": ("ルイヴィトン", "LOUIS VUITTON", "ヴィトン", "ルイ・ヴィトン", "LV"),
    "シャネル": ("シャネル", "CHANEL"),
    "グッチ": ("グッチ", "GUCCI"),
    "エルメス": ("エルメス", "HERMES"),
    "プラダ": ("プラダ", "PRADA"),
    "コーチ": ("コーチ", "COACH"),
    "ロレックス": ("ロレックス", "ROLEX"),
    "カシオ": ("カシオ", "CASIO", ""),
    "アップル": ("Apple", "アップル", "", ""),
    "任天堂": ("Nintendo", "任天堂", "ニンテンドー", ""),
    "ソニー": ("SONY", "ソニー", ""),
    "ポケモン": ("", "", "ポケモン"),
    "ディズニー": ("ディズニー", "Disney", "ディズニーリゾート", "TDR"),
    "サンリオ": ("サンリオ", "Sanrio", ""),
    "バンダイ": ("BANDAI", "バンダイ", ""),
    "ナイキ": ("ナイキ", "NIKE", "NIKE"),
    "アディダス": ("アディダス", "adidas"),
    "ニューバランス": ("ニューバランス", "New Balance", "NB"),
    "コンバース": ("コンバース", "CONVERSE"),
    "ユニクロ": ("ユニクロ", "UNIQLO"),
    "ジーユー": ("GU", "ジーユー"),
    "ザ ノースフェイス": ("ノースフェイス", "THE NORTH FACE", "ザノースフェイス"),
    "シュプリーム": ("シュプリーム", "Supreme"),
    "無印良品": ("無印良品", "MUJI", "無印"),
    "クリスチャン ディオール": ("ディオール", "Dior"),
}

# option sets: (surface written in the title, log price multiplier); a set's draws are independent
STORAGE = (("64GB", -0.15), ("128GB", 0.0), ("256GB", 0.15), ("512GB", 0.3))
IPHONE_COLOURS = (("ミッドナイト", 0), ("スターライト", 0), ("ブルー", 0), ("ピンク", 0), ("(PRODUCT)RED", 0),
                  ("ブラック", 0), ("ホワイト", 0), ("パープル", 0), ("グリーン", 0))
CARRIER = (("SIMフリー", 0.05), ("SIMロック解除済み", 0.0), ("docomo", -0.05), ("au", -0.05), ("softbank", -0.05),
           ("本体のみ", 0.0), ("バッテリー85%", -0.05), ("残債なし", 0.0))
RARITY = (("ノーマル", -1.4), ("C", -1.6), ("R", -0.9), ("RR", -0.3), ("AR", 0.9), ("SR", 1.6), ("SAR", 3.0),
          ("UR", 2.2), ("プロモ", 1.2), ("PSA10", 2.8), ("美品 1枚", 0.0))
MEN_SHOES = tuple((f"{s / 10:g}cm", 0.0) for s in range(250, 295, 5))
WOMEN_SHOES = tuple((f"{s / 10:g}cm", 0.0) for s in range(225, 255, 5))
LETTER = (("S", 0.0), ("M", 0.0), ("L", 0.0), ("XL", 0.0), ("Mサイズ", 0.0), ("Lサイズ", 0.0))
COLOURS = (("ブラック", 0), ("ネイビー", 0), ("ホワイト", 0), ("グレー", 0), ("ベージュ", 0), ("カーキ", 0),
           ("ブラウン", 0), ("黒", 0), ("ピンク", 0), ("レッド", 0))
SWITCH_COLOURS = (("ホワイト", 0), ("ネオンブルー/ネオンレッド", 0), ("グレー", 0), ("ネオン", 0))


@dataclass(frozen=True)
class Line:
    """A product line: brand, leaves (first the most common), title words, price, options."""

    brand: str
    leaves: tuple[str, ...]
    nouns: tuple[str, ...]  # item words sellers write ("長財布"); "" = none
    models: tuple[tuple[str, float], ...]  # model / line names and their log price multipliers
    price: int  # typical used price in yen, condition 3
    sigma: float  # log-normal spread of single listings
    weight: float  # share among catalogue listings
    options: tuple[tuple[tuple[str, float], ...], ...] = ()
    codes: tuple[str, ...] = ()  # model numbers, written in some titles
    floor: int = 300  # the marketplace's minimum price; single trading cards trade lower, in bundles or not


LINES = (
    # --- luxury houses: bags, wallets, accessories
    Line("ルイ ヴィトン", (WOMEN + "小物/長財布", MEN + "小物/長財布"), ("長財布", "財布", "ラウンドファスナー長財布"),
         (("モノグラム", 0), ("ダミエ", 0), ("ダミエ・アズール", 0), ("エピ", 0.1), ("ジッピーウォレット", 0.2),
          ("ポルトフォイユ・サラ", 0), ("ヴェルニ", -0.1)), 42000, 0.4, 3, (), ("M60017", "N60015", "M61734", "N63503")),
    Line("ルイ ヴィトン", (WOMEN + "小物/折り財布/二つ折り財布", MEN + "小物/折り財布/二つ折り財布"), ("二つ折り財布", "財布"),
         (("モノグラム", 0), ("ダミエ", 0), ("ポルトフォイユ・ヴィクトリーヌ", 0.2)), 30000, 0.4, 1.5),
    Line("ルイ ヴィトン", (WOMEN + "バッグ/トートバッグ", WOMEN + "バッグ/ハンドバッグ", WOMEN + "バッグ/ショルダーバッグ/ショルダーバッグ"),
         ("バッグ", "トートバッグ", "ハンドバッグ", "ショルダーバッグ"),
         (("ネヴァーフルMM", 0.3), ("スピーディ30", 0), ("アルマ", 0.1), ("モノグラム", 0), ("ダミエ", 0)), 90000, 0.45, 2.5,
         (), ("M40156", "N41365", "M41108")),
    Line("シャネル", (WOMEN + "小物/長財布",), ("長財布", "財布"),
         (("マトラッセ", 0), ("キャビアスキン", 0.1), ("ココマーク", 0), ("ラムスキン", -0.1)), 60000, 0.4, 1.5),
    Line("シャネル", (WOMEN + "バッグ/ショルダーバッグ/ショルダーバッグ", WOMEN + "バッグ/ハンドバッグ"),
         ("チェーンショルダー", "ショルダーバッグ", "バッグ"), (("マトラッセ", 0), ("ココマーク", 0), ("ボーイシャネル", 0.2)),
         300000, 0.45, 1),
    Line("シャネル", (K + "メイクアップ/口紅",), ("口紅", "リップ"), (("ルージュ ココ", 0), ("ルージュ アリュール", 0)),
         2500, 0.3, 1),
    Line("グッチ", (WOMEN + "小物/長財布", MEN + "小物/長財布"), ("長財布", "財布"),
         (("GGマーモント", 0.1), ("GGスプリーム", 0), ("シマ", -0.1)), 28000, 0.4, 1.5),
    Line("グッチ", (WOMEN + "バッグ/ショルダーバッグ/ショルダーバッグ", MEN + "バッグ/ショルダーバッグ/ショルダーバッグ"), ("ショルダーバッグ", "バッグ"),
         (("GGマーモント", 0.1), ("GGスプリーム", 0), ("オフィディア", 0.1)), 65000, 0.45, 1),
    Line("エルメス", (WOMEN + "バッグ/ハンドバッグ",), ("ハンドバッグ", "バッグ"),
         (("バーキン30", 0.2), ("ケリー28", 0.1), ("ピコタンロック", -1.6), ("ガーデンパーティ", -2.0)), 1500000, 0.4, 0.5),
    Line("エルメス", (WOMEN + "小物/バンダナ・スカーフ",), ("スカーフ", "ツイリー"), (("カレ90", 0.3), ("ツイリー", 0)),
         18000, 0.35, 0.6),
    Line("コーチ", (WOMEN + "小物/長財布", MEN + "小物/長財布"), ("長財布", "財布"), (("シグネチャー", 0), ("レザー", 0)),
         8000, 0.45, 2),
    Line("コーチ", (WOMEN + "バッグ/ショルダーバッグ/ショルダーバッグ", WOMEN + "バッグ/トートバッグ"), ("ショルダーバッグ", "トートバッグ"),
         (("シグネチャー", 0), ("レザー", 0.1)), 12000, 0.45, 1.5),
    Line("プラダ", (WOMEN + "小物/長財布",), ("長財布", "財布"), (("サフィアーノ", 0), ("ナイロン", -0.3)), 22000, 0.4, 1),
    Line("プラダ", (WOMEN + "バッグ/リュック・バックパック", MEN + "バッグ/リュック・バックパック"), ("リュック", "バックパック"),
         (("テスートナイロン", 0), ("Re-Nylon", 0.2)), 55000, 0.4, 0.6),
    Line("ロレックス", (MEN + "時計/腕時計(アナログ)/自動巻き時計",), ("腕時計", "時計", ""),
         (("サブマリーナー", 0.3), ("デイトジャスト", 0), ("エクスプローラー", 0.1), ("GMTマスター", 0.4)), 1200000, 0.3, 0.5,
         (), ("116610LN", "126300", "214270")),
    Line("カシオ", (MEN + "時計/腕時計(デジタル)", WOMEN + "時計/腕時計(デジタル)"), ("腕時計", "時計", ""),
         (("G-SHOCK", 0), ("Baby-G", -0.3), ("チープカシオ", -1.2)), 9000, 0.45, 1.5, (), ("GA-2100", "DW-5600", "GW-M5610")),
    # --- phones, tablets, computers, consoles
    Line("アップル", (P + "スマートフォン・携帯電話/スマートフォン本体",), ("", "", "本体", "スマホ"),
         (("iPhone 11", -0.9), ("iPhone 12", -0.55), ("iPhone 13", 0), ("iPhone13", 0), ("iPhone 13 mini", -0.15),
          ("iPhone 13 Pro", 0.25), ("iPhone 14", 0.1), ("iPhone 14 Pro", 0.45), ("iPhone 15", 0.35),
          ("iPhone SE 第2世代", -1.3), ("iPhone SE 第3世代", -0.8)), 62000, 0.22, 4,
         (STORAGE, IPHONE_COLOURS, CARRIER)),
    Line("アップル", (P + "タブレット/iPad本体",), ("", "本体", "タブレット"),
         (("iPad 第9世代", -0.4), ("iPad Air 第5世代", 0.2), ("iPad Pro 11インチ", 0.55), ("iPad mini 6", 0.05)),
         42000, 0.25, 1.5, (STORAGE, (("Wi-Fiモデル", 0), ("Wi-Fi+Cellular", 0.1)))),
    Line("アップル", (P + "ノートPC/MacBook本体",), ("", "ノートパソコン", "本体"),
         (("MacBook Air M1", 0), ("MacBook Air M2", 0.35), ("MacBook Pro 14インチ", 0.85)), 75000, 0.25, 1,
         ((("8GB/256GB", 0), ("16GB/512GB", 0.3)),)),
    Line("アップル", ("テレビ・オーディオ・カメラ/オーディオ機器/イヤホン/ワイヤレスイヤホン・骨伝導イヤホン/AirPods本体",),
         ("", "ワイヤレスイヤホン", "イヤホン"), (("AirPods Pro 第2世代", 0.3), ("AirPods 第3世代", -0.2), ("AirPods Pro", 0)),
         18000, 0.3, 1.5),
    Line("任天堂", (B + "テレビゲーム/Nintendo Switch/本体(有機ELモデル)",), ("本体", "", "ゲーム機"),
         (("Nintendo Switch 有機ELモデル", 0), ("ニンテンドースイッチ 有機EL", 0), ("Switch 有機ELモデル", 0)), 29000, 0.2, 2,
         (SWITCH_COLOURS,)),
    Line("任天堂", (B + "テレビゲーム/Nintendo Switch/本体(Nintendo Switch)",), ("本体", "", "ゲーム機"),
         (("Nintendo Switch", 0), ("ニンテンドースイッチ", 0), ("Switch 新型", 0.1)), 22000, 0.25, 1.5, (SWITCH_COLOURS,)),
    Line("任天堂", (B + "テレビゲーム/Nintendo Switch/本体(Nintendo Switch Lite)",), ("本体", ""),
         (("Nintendo Switch Lite", 0), ("スイッチライト", 0)), 14000, 0.25, 1.5,
         ((("イエロー", 0), ("ターコイズ", 0), ("グレー", 0), ("コーラル", 0)),)),
    Line("任天堂", (B + "テレビゲーム/Nintendo Switch/ソフト(パッケージ版)",), ("ソフト", "Switch ソフト", "スイッチ ソフト"),
         (("マリオカート8 デラックス", 0.1), ("スプラトゥーン3", 0.05), ("あつまれ どうぶつの森", 0),
          ("ゼルダの伝説 ティアーズ オブ ザ キングダム", 0.15), ("ポケットモンスター スカーレット", 0.05),
          ("大乱闘スマッシュブラザーズ SPECIAL", 0.1)), 4000, 0.25, 3),
    Line("ソニー", (B + "テレビゲーム/プレイステーション5(PS5)/本体(通常版)",), ("本体", ""),
         (("PS5", 0), ("PlayStation5", 0), ("プレイステーション5", 0)), 55000, 0.2, 1, (), ("CFI-1200A01", "CFI-2000A01")),
    Line("ソニー", ("テレビ・オーディオ・カメラ/オーディオ機器/ヘッドホン/ワイヤレスヘッドホン",), ("ワイヤレスヘッドホン", "ヘッドホン"),
         (("WH-1000XM4", 0), ("WH-1000XM5", 0.4), ("WH-CH720N", -0.9)), 22000, 0.3, 0.8),
    # --- toys, cards, character goods
    Line("ポケモン", (B + "トレーディングカード/ポケモンカードゲーム",), ("ポケモンカード", "ポケカ", "ポケモンカード"),
         (("ピカチュウ", 0.3), ("リザードン", 0.8), ("ミュウ", 0.4), ("ミュウツー", 0.3), ("ナンジャモ", 0.9),
          ("ブラッキー", 0.7), ("イーブイ", 0.1), ("ルギア", 0.5), ("ゲンガー", 0.2), ("リーリエ", 1.3), ("マリィ", 0.9)),
         500, 0.6, 6, (RARITY,), floor=100),
    Line("ポケモン", (B + "トレーディングカード/ポケモンカードゲーム",), ("BOX", "未開封BOX", "シュリンク付き BOX"),
         (("ポケモンカード 151", 0.3), ("ポケカ クレイバースト", 0), ("ポケモンカード 黒炎の支配者", -0.2)), 9000, 0.3, 1.5),
    Line("ポケモン", (B + "おもちゃ/ぬいぐるみ/ぬいぐるみ本体", B + "キャラクターグッズ/ぬいぐるみ・マスコット"), ("ぬいぐるみ", "マスコット"),
         (("ピカチュウ", 0), ("イーブイ", 0), ("ポケモンセンター", 0.1)), 2000, 0.4, 1.5),
    Line("ディズニー", (B + "おもちゃ/ぬいぐるみ/ぬいぐるみ本体", B + "キャラクターグッズ/ぬいぐるみ・マスコット"),
         ("ぬいぐるみ", "ぬいぐるみバッジ", "ぬいば"),
         (("ダッフィー", 0.1), ("シェリーメイ", 0.1), ("ステラ・ルー", 0.1), ("ジェラトーニ", 0), ("ミッキー", -0.1),
          ("ミニー", -0.1), ("くまのプーさん", -0.1)), 3200, 0.45, 2.5, ((("Sサイズ", -0.3), ("Mサイズ", 0.2), ("", 0)),)),
    Line("サンリオ", (B + "おもちゃ/ぬいぐるみ/ぬいぐるみ本体", B + "キャラクターグッズ/キーホルダー・アクリルキーホルダー"),
         ("ぬいぐるみ", "マスコット", "キーホルダー"),
         (("シナモロール", 0), ("クロミ", 0), ("マイメロディ", 0), ("ハローキティ", -0.1), ("ポチャッコ", -0.1)), 1800, 0.45, 2),
    Line("バンダイ", ("ホビー・楽器・アート/模型・プラモデル/ロボット/ガンプラ/HG(ハイグレード)",
                   "ホビー・楽器・アート/模型・プラモデル/ロボット/ガンプラ/MG(マスターグレード)"), ("ガンプラ", "プラモデル"),
         (("HG ガンダム エアリアル", 0), ("MG νガンダム", 1.2), ("HG ザク", -0.3)), 2500, 0.45, 1.5, ((("未組立", 0.2), ("", 0)),)),
    # --- fashion: sneakers, outerwear, basics
    Line("ナイキ", (MEN + "靴/スニーカー",), ("スニーカー", "", ""),
         (("エアフォース1", 0), ("AIR FORCE 1", 0), ("エアマックス90", 0.1), ("エアマックス95", 0.3), ("ダンク ロー", 0.35),
          ("エアジョーダン1", 0.8), ("コルテッツ", -0.3)), 9500, 0.35, 4, (MEN_SHOES, COLOURS)),
    Line("ナイキ", (WOMEN + "靴/スニーカー",), ("スニーカー", "", ""),
         (("エアフォース1", 0), ("エアマックス90", 0.1), ("ダンク ロー", 0.35), ("コルテッツ", -0.3)), 8500, 0.35, 3,
         (WOMEN_SHOES, COLOURS)),
    Line("アディダス", (MEN + "靴/スニーカー", WOMEN + "靴/スニーカー"), ("スニーカー", ""),
         (("スタンスミス", 0), ("スーパースター", 0), ("サンバ", 0.4), ("ガゼル", 0.2)), 6500, 0.35, 3, (MEN_SHOES, COLOURS)),
    Line("ニューバランス", (MEN + "靴/スニーカー", WOMEN + "靴/スニーカー"), ("スニーカー", ""),
         (("996", 0), ("574", -0.2), ("990v5", 0.8), ("2002R", 0.5)), 8000, 0.35, 2.5, (MEN_SHOES, COLOURS)),
    Line("コンバース", (WOMEN + "靴/スニーカー", MEN + "靴/スニーカー"), ("スニーカー", ""),
         (("オールスター", 0), ("チャックテイラー CT70", 0.8), ("ジャックパーセル", 0.2)), 3800, 0.35, 2.5, (WOMEN_SHOES, COLOURS)),
    Line("ユニクロ", (MEN + "ジャケット・アウター/ダウンジャケット", WOMEN + "ジャケット・アウター/ダウンジャケット"), ("ダウン", "ダウンジャケット"),
         (("ウルトラライトダウン", 0), ("シームレスダウン", 0.4), ("ウルトラライトダウンジャケット", 0)), 2600, 0.35, 2.5,
         (LETTER, COLOURS)),
    Line("ユニクロ", (MEN + "ジャケット・アウター/フリースジャケット・ボアジャケット", WOMEN + "ジャケット・アウター/フリースジャケット・ボアジャケット"),
         ("フリース", "フリースジャケット"), (("ボアフリース", 0.1), ("フリースフルジップジャケット", 0)), 1300, 0.35, 2,
         (LETTER, COLOURS)),
    Line("ユニクロ", (MEN + "トップス/Tシャツ", WOMEN + "トップス/Tシャツ・カットソー/長袖"), ("インナー", "Tシャツ"),
         (("ヒートテック", 0), ("エアリズム", 0), ("ヒートテック 極暖", 0.2)), 600, 0.35, 2, (LETTER, COLOURS)),
    Line("ジーユー", (WOMEN + "パンツ/カジュアルパンツ", WOMEN + "トップス/トレーナー・スウェット"), ("パンツ", "スウェット"),
         (("ワイドパンツ", 0), ("バレルレッグパンツ", 0), ("スウェットシャツ", -0.1)), 900, 0.35, 2, (LETTER, COLOURS)),
    Line("ザ ノースフェイス", (MEN + "ジャケット・アウター/ダウンジャケット", MEN + "ジャケット・アウター/マウンテンパーカー"),
         ("ダウンジャケット", "ジャケット", "マウンテンパーカー"),
         (("ヌプシジャケット", 0), ("バルトロライトジャケット", 0.3), ("マウンテンライトジャケット", -0.1)), 24000, 0.3, 1.5,
         (LETTER, COLOURS), ("ND92335", "NP61800", "ND91950")),
    Line("シュプリーム", (MEN + "トップス/パーカー",), ("パーカー", "フーディー"), (("Box Logo", 0.5), ("ボックスロゴ", 0.5),
                                                                         ("Small Box", -0.3)), 22000, 0.4, 1, (LETTER, COLOURS)),
    # --- home and cosmetics
    Line("無印良品", ("家具・インテリア/洋服タンス・押入れ収納/衣装ケース・衣類収納ケース",), ("収納ケース", "衣装ケース", "収納"),
         (("ポリプロピレン", 0), ("ポリプロピレン 引出式", 0.1), ("ポリプロピレンケース 深型", 0.1), ("PP", 0)), 1500, 0.4, 2,
         ((("2段", 0.3), ("3個セット", 0.7), ("", 0), ("", 0)),)),
    Line("無印良品", ("ダイエット・健康/リラクゼーション/アロマディフューザー",), ("アロマディフューザー", "ディフューザー"),
         (("超音波うるおい", 0), ("ポータブル", -0.3)), 3000, 0.35, 1),
    Line("無印良品", (K + "スキンケア・基礎化粧品/化粧水・ローション・トナー",), ("化粧水",),
         (("敏感肌用", 0), ("導入化粧液", 0.3), ("高保湿タイプ", 0)), 700, 0.3, 1.5),
    Line("クリスチャン ディオール", (K + "メイクアップ/リップグロス", K + "メイクアップ/口紅"), ("リップ", "口紅", "グロス"),
         (("マキシマイザー", 0), ("アディクト リップ", 0), ("ルージュ ディオール", 0.1)), 2600, 0.3, 2),
)

# Leaves that are common on a real marketplace, whatever the seed: substring of a leaf path ->
# percent of the generic listings shared by the leaves it matches (the rest follow a Zipf tail).
POPULAR_LEAVES = {
    "/靴/スニーカー": 3.0, "iPhone用ケース": 2.5, "Android用ケース": 1.0, "トレーディングカード/ポケモンカードゲーム": 2.0,
    "トレーディングカード/遊戯王": 1.5, "ワンピース カードゲーム": 1.0, "キッズ服(100cm~)/": 3.0, "ベビー服(~95cm)/": 1.5,
    "コスメ・美容/ベースメイク/": 1.2, "コスメ・美容/メイクアップ/": 1.5, "コスメ・美容/スキンケア・基礎化粧品/": 1.5,
    "キャラクターグッズ/": 2.0, "漫画/全巻セット": 1.0, "/トップス/Tシャツ": 1.5, "レディース/ワンピース/": 1.0,
    "ぬいぐるみ": 0.8, "/小物/長財布": 0.8, "Nintendo Switch/ソフト": 1.0, "タレントグッズ/アイドル/": 1.5,
}

# The README's demo titles are never generated verbatim (a title that comes out equal to one
# gets a closing word), so the demo shows what the models learnt, not a row they memorised.
DEMO_TITLES = (
    "ルイヴィトン 長財布 モノグラム", "iPhone 13 128GB ミッドナイト SIMフリー", "Nintendo Switch 有機ELモデル ホワイト 本体",
    "ポケモンカード ピカチュウ プロモ", "ユニクロ ウルトラライトダウン M ネイビー", "無印良品 ポリプロピレン 収納ケース",
    "ナイキ エアフォース1 27cm", "ディズニー ぬいぐるみ ダッフィー",
)


def title_key(title: str) -> str:
    """A title as the tokenizer layer sees it: NFKC, lower-case, single spaces."""
    import unicodedata

    return " ".join(unicodedata.normalize("NFKC", title).lower().split())


HELD_OUT_TITLES = frozenset(title_key(t) for t in DEMO_TITLES)

LINE_CUM = tuple(sum(line.weight for line in LINES[:k + 1]) / sum(line.weight for line in LINES)
                 for k in range(len(LINES)))


@dataclass
class Item:
    """One listing drawn from a product line, before condition words and description are added."""

    brand: str
    leaf: str
    words: list[str]  # the title's core, in order
    noun: str  # the item word for the description ("長財布", else the model name)
    tags: list[str]
    logprice: float  # log yen at condition 3, before noise


def draw(line: Line, r, surface_tags: dict[str, str]) -> Item:
    """A listing of `line`: `r` is the caller's random() so a day stays reproducible."""
    import math

    def pick(seq):
        return seq[int(r() * len(seq))]

    leaf = line.leaves[0] if len(line.leaves) == 1 or r() < 0.6 else pick(line.leaves[1:])
    model, logprice = pick(line.models)
    logprice += math.log(line.price)
    noun = pick(line.nouns)
    spelled = pick(BRANDS[line.brand])
    head = [w for w in (spelled, model) if w]
    options, tags = [], [model]
    for choices in line.options:
        surface, delta = pick(choices)
        logprice += delta
        if surface and r() < 0.85:  # an option is priced in, but not always written down
            options.append(surface)
        tag = surface_tags.get(surface)
        if tag:
            tags.append(tag)
    words = head + ([noun] if noun else [])
    if line.codes and r() < 0.3:
        words.append(pick(line.codes))
    words = words + options if r() < 0.8 else head + options + ([noun] if noun else [])
    return Item(line.brand, leaf, words, noun or model, list(dict.fromkeys(tags)), logprice)
