"""Rule extraction from names and descriptions: the common phrasings, and the false positives avoided."""

import pytest

from pipelines.normalize.rules import load_rules


def extract(field: str, title: str, desc: str = "") -> str | None:
    rules = load_rules()
    field_rules = rules.fields[field]
    if field_rules.text == "title":
        text = title
    elif field_rules.text == "title_deschead":
        text = f"{title} . {rules.desc_head(desc)}" if desc else title
    else:
        text = f"{title} . {desc}" if desc else title
    return field_rules.extract(rules.masked(text))


@pytest.mark.parametrize(
    "field, title, expected",
    [
        ("pattern", "Roadster Men Blue Striped Denim Shirt", "striped"),
        ("pattern", "Spykar Men Black and white Check Shirt", "checked"),
        ("pattern", "Wrangler Women Polka Dot Top", "dotted"),
        ("pattern", "Mother Earth Women Floral Kurta", "floral"),
        ("pattern", "W Women Printed Black Kurta", "printed"),
        ("pattern", "Puma Men's Large Logo Graphic Black T-shirt", "graphic"),
        ("pattern", "United Colors of Benetton Men Solid Blue Sweatshirt", "solid"),
        ("pattern", "Diva Women Embroided Green Kurta", "embroidered"),  # the real file's spelling
        ("pattern", "Puma Men Black T-shirt", None),
        ("material", "Roadster Men Blue Striped Denim Shirt", "denim"),
        ("material", "Catwalk Women Leather Brown Flats", "leather"),
        ("material", "Gini and Jony Girls Knit White Top", "knit"),
        ("material", "Fabindia Women Blue Silk Sling Bag", "silk"),
        ("material", "Indigo Nation Men cotton White Shirts", "cotton"),
        ("material", "Scullers Men Wool Blend Grey Sweater", "wool"),
        ("material", "Fabindia Men Linen White Kurta", "linen"),
        ("material", "Catwalk Women Gun Metal Grey Heels", None),  # a colour, not a material
        ("neckline", "Fila Men's Round Neck Navy Blue T-shirt", "round"),
        ("neckline", "W Women V Neck Short Sleeve Purple Kurta", "v_neck"),
        ("neckline", "Nike Women V-Neck Black T-shirt", "v_neck"),
        ("neckline", "Puma Men's Stripe Polo Black T-shirt", "polo"),
        ("neckline", "Classic Polo Men Ikon Navy Blue Polo Tshirts", "polo"),  # brand masked, product is a polo
        ("neckline", "U.S. Polo Assn. Men Printed Black Tshirt", None),  # the brand is not a neckline
        ("neckline", "ADIDAS Men Lfc Auth Hooded Grey Sweatshirts", "hood"),
        ("neckline", "Arrow Men Collared Blue Shirt", "collar"),
        ("neckline", "Vero Moda Women High Neck Black Top", "high"),
        ("neckline", "Only Women Square Neck Red Top", "square"),
        ("neckline", "Only Women Boat Neck Red Top", "boat"),
        ("neckline", "Forever New Women Off-Shoulder Red Top", "off_shoulder"),
        ("neckline", "Arrow Men White Shirt", None),  # a shirt usually has a collar, but the name does not say
        ("sleeve_length", "Proline Men Cream-Coloured Sleeveless T-shirt", "sleeveless"),
        ("sleeve_length", "Nike Men Casual short sleeve tshirt White Tshirts", "short"),
        ("sleeve_length", "Arrow Men Half Sleeve Blue Shirt", "short"),
        ("sleeve_length", "Vero Moda Women 3/4 Sleeve Black Top", "three_quarter"),
        ("sleeve_length", "Arrow Men Full Sleeve White Shirt", "long"),
        ("sleeve_length", "Lee longsleeve", "long"),
        ("fit", "Arrow Men Black Striped Slim Fit Shirt", "slim"),
        ("fit", "Levis Men Regular Fit Blue Jeans", "regular"),
        ("fit", "Only Women Relaxed Fit Jeans", "relaxed"),
        ("fit", "Jealous 21 Women Skinny Fit Jeans", "skinny"),
        ("fit", "COZY OVERSIZE RAGLAN", "oversized"),
        ("color", "Puma Men Navy Blue T-shirt", "blue"),
        ("color", "Spykar Men Black and white Check Shirt", None),  # two colours: no single one
        ("color", "Nike Men Grey Multi Coloured Polo T-shirt", None),
        ("color", "Red Tape Men Brown Casual Shoes", "brown"),  # "Red Tape" is a brand
        ("category", "Puma Men Black T-shirt", "tees"),
        ("category", "Jodi utility shirt dress", "dresses"),  # the head noun comes last
        ("category", "Giordano Women White Dial Watch", "watches"),
        ("category", "Pepe Jeans Men Blue Shirt", "shirts"),  # brand masked
        ("gender", "Gini and Jony Girls Knit White Top", "girls"),
        ("gender", "Puma Women Black Top", "women"),
    ],
)
def test_title_phrases(field, title, expected):
    assert extract(field, title) == expected


@pytest.mark.parametrize(
    "field, title, desc, expected",
    [
        ("category", "OP T-shirt Milano", "T-shirt bra in microfibre with underwired, padded cups.", "innerwear"),
        ("category", "R-NECK SS BASIC 3 PK", "Round-necked T-shirts in organic cotton jersey.", "tees"),
        ("category", "Constance", "Calf-length trousers in jersey. High waist with covered elastication.", "trousers"),
        (
            "neckline",
            "Henry polo",
            "Jumper in a soft, fine knit with a ribbed polo neck and ribbing at the cuffs.",
            "high",
        ),
        ("neckline", "PETER POLO", "Short-sleeved polo shirt in soft jersey with a collar and button placket.", "polo"),
        (
            "neckline",
            "SULIMA jkt",
            "Outdoor jacket in woven fabric with a double-layered hood, stand up collar.",
            "hood",
        ),
        (
            "neckline",
            "Emily",
            "Short top in an airy cotton weave. Square neckline with a narrow elastication.",
            "square",
        ),
        ("sleeve_length", "Emily", "Square neckline, short, elasticated puff sleeves and elasticated hem.", "short"),
        ("sleeve_length", "Bailey", "Boxy, V-neck cardigan in a soft rib knit. Long sleeves.", "long"),
        (
            "sleeve_length",
            "Tina",
            "Dress in soft jersey with a boat neck, 3/4-length sleeves and pockets.",
            "three_quarter",
        ),
        ("sleeve_length", "Goldie", "Cropped top in soft, ribbed jersey with narrow shoulder straps.", "sleeveless"),
        (
            "material",
            "Jenna",
            "Double-breasted jacket in woven fabric with notch lapels. Lined in recycled polyester.",
            None,
        ),
        ("material", "Sneaker", "Trainers in imitation leather with lacing at the front and rubber soles.", "leather"),
        (
            "material",
            "BLANKS",
            "The perfect canvas for your personal style. Joggers in heavy cotton sweatshirt fabric.",
            "cotton",
        ),
        (
            "material",
            "Bikini",
            "Bikini top with narrow, adjustable shoulder straps and a metal fastener at the back.",
            None,
        ),
        ("material", "Cardigan", "Boxy cardigan in a soft rib knit made from a cotton blend.", "knit"),
        ("fit", "Girlfriend", "Jeans in washed denim in a slightly looser fit with a regular waist.", "relaxed"),
    ],
)
def test_description_phrases(field, title, desc, expected):
    assert extract(field, title, desc) == expected


def test_phrases_match_whole_words_only():
    assert extract("neckline", "Poloma Women Top") is None
    assert extract("material", "Senorita Women Metallic Grey Heels") is None
    assert extract("color", "Redwolf Men Printed Tshirt") is None
