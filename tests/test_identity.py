import pytest

from mediawatch.identity import canonical_url, content_hash, item_id, social_item_id, web_item_id


def test_canonical_url_strips_tracking_fragments_and_cosmetics():
    assert (
        canonical_url("HTTPS://www.BaoLamDong.vn:443/xa-hoi/bai-viet/?utm_source=rss&fbclid=x#top")
        == "https://baolamdong.vn/xa-hoi/bai-viet"
    )


def test_canonical_url_keeps_meaningful_parameters_in_a_stable_order():
    assert canonical_url("http://a.vn/tin?page=2&id=7") == canonical_url(
        "http://a.vn/tin?id=7&page=2"
    )
    assert canonical_url("http://a.vn/tin?id=7") != canonical_url("http://a.vn/tin?id=8")


def test_web_item_id_is_the_same_for_tracking_variants():
    plain = web_item_id("https://tin.vn/gia-ca-phe.html")
    assert plain.startswith("web:")
    assert web_item_id("https://www.tin.vn/gia-ca-phe.html?utm_medium=feed&utm_source=rss") == plain
    assert web_item_id("https://tin.vn/gia-sau-rieng.html") != plain


def test_social_item_id_names_the_platform():
    assert social_item_id("Facebook", "123_456") == "facebook:123_456"


def test_content_hash_ignores_spacing_case_and_diacritics_but_not_words():
    original = "Sắp thu hồi đất ở Lạc Dương!"
    assert content_hash(original) == content_hash("  sắp THU HỒI  đất ở lạc dương ")
    assert content_hash(original) == content_hash("Sap thu hoi dat o Lac Duong")
    assert content_hash(original) != content_hash("Sắp thu hồi đất ở Đức Trọng!")


def test_percent_encoding_does_not_split_one_page_into_several_items():
    plain = web_item_id("https://bao.vn/tin-tức/đất-đai")
    assert web_item_id("https://bao.vn/tin-t%E1%BB%A9c/%C4%91%E1%BA%A5t-%C4%91ai") == plain
    assert web_item_id("https://bao.vn/tin-t%e1%bb%a9c/%c4%91%e1%ba%a5t-%c4%91ai") == plain


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", "youtube:dQw4w9WgXcQ"),
        ("https://youtu.be/dQw4w9WgXcQ", "youtube:dQw4w9WgXcQ"),
        ("https://m.youtube.com/shorts/dQw4w9WgXcQ", "youtube:dQw4w9WgXcQ"),
        ("https://t.me/TinLamDong/102", "telegram:tinlamdong:102"),
        ("https://t.me/s/tinlamdong/102", "telegram:tinlamdong:102"),
        ("https://www.facebook.com/1234567/posts/890", "facebook:1234567_890"),
    ],
)
def test_a_social_post_has_its_platform_id_however_its_link_is_written(url, expected):
    assert item_id(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/watch?v=short",  # not a video id
        "https://www.youtube.com/channel/UC123",
        "https://t.me/s/tinlamdong",  # the channel, not a message
        "https://www.facebook.com/groups/lacduong/posts/777",
        "https://baolamdong.vn/tin/102",
    ],
)
def test_other_links_are_web_pages(url):
    assert item_id(url) == web_item_id(url)
