"""A generated corpus of genuine Vietnamese HR text: invented names, job titles, addresses
and company names (no real person's data), in the forms accountants type them."""

from __future__ import annotations

import itertools
import random
import unicodedata

FAMILY = str.split(
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Đoàn Lâm"
    " Mai Trịnh Trương Cao Tạ Hà Lương Tô Quách Thái Kiều Châu Khúc Lò Âu Ông Ưng Ứng Mạc"
)
MIDDLE = str.split(
    "Văn Thị Hữu Đức Minh Quang Công Thành Ngọc Thu Thanh Bảo Khánh Mỹ Xuân Thùy Hoài Gia"
    " Tuấn Phương Kim Diệu Ánh Ái Ý Đình Quốc Trọng Thế Bích Tường Nhật Uyển"
)
GIVEN = str.split(
    "An Bình Cường Dũng Hải Hùng Khoa Long Nam Phúc Tuấn Anh Châu Dung Hà Hạnh Hoa Lan"
    " Linh Mai Trang Yến Quỳnh Thuỷ Thủy Hoà Hòa Thuý Thúy Khuê Nguyệt Tuyết Huyền Oanh"
    " Uyên Ý Ánh Ấn Đạt Đông Giang Nghĩa Hưng Hương Phượng Trường Vượng Lực Sỹ Kỳ Lộc"
    " Thịnh Tiến Thắng Sơn Tú Tâm Mỹ Thơ Ngân Ân Mẫn Hằng Cẩm Khải Tường Quý Khuyên Ngữ"
    " Tử Ứng Vĩ Toản Thoa Khoá Loan Xoan Nhung Yên Mỵ Hỷ Huệ Thiện Khiêm Nhàn Đào Ẩn"
)
TITLES = (
    "Kế toán trưởng",
    "Kế toán viên",
    "Công nhân may",
    "Công nhân sản xuất",
    "Giám đốc",
    "Phó giám đốc",
    "Trưởng phòng hành chính nhân sự",
    "Phó phòng kinh doanh",
    "Nhân viên kinh doanh",
    "Nhân viên kho",
    "Thủ kho",
    "Thủ quỹ",
    "Kỹ sư phần mềm",
    "Kỹ sư xây dựng",
    "Kỹ thuật viên điện",
    "Lái xe",
    "Bảo vệ",
    "Tạp vụ",
    "Lễ tân",
    "Thư ký",
    "Phiên dịch viên",
    "Chuyên viên tuyển dụng",
    "Điều dưỡng",
    "Dược sĩ",
    "Thợ hàn",
    "Thợ điện",
    "Thợ sửa xe",
    "Tổ trưởng",
    "Quản đốc phân xưởng",
    "Kiểm soát viên chất lượng",
    "Giáo viên mẫu giáo",
    "Nhân viên vẽ kỹ thuật",
    "Nhân viên chăm sóc mẹ và bé",
    "Nhân viên nhà trẻ",
    "Đầu bếp",
    "Phụ bếp",
    "Nhân viên phục vụ",
    "Nhân viên thu ngân",
    "Cán bộ công đoàn",
    "Ủy viên hội đồng quản trị",
    "Thành viên ban kiểm soát",
    "Nhân viên bốc xếp",
    "Công nhân vệ sinh môi trường",
    "Nhân viên giao nhận",
    "Trợ lý giám đốc",
    "Chuyên viên pháp chế",
    "Nhân viên IT",
    "Kỹ sư QA",
    "Cao đẳng điều dưỡng",
)
STREETS = (
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Võ Thị Sáu",
    "Phạm Ngũ Lão",
    "Cách Mạng Tháng Tám",
    "Nguyễn Thị Minh Khai",
    "Hoàng Quốc Việt",
    "Xuân Thủy",
    "Tôn Đức Thắng",
    "Bà Triệu",
    "Hàng Bạc",
)
WARDS = (
    "Phường Bến Nghé",
    "Phường Đa Kao",
    "Phường Tân Định",
    "Phường Dịch Vọng",
    "Phường Hàng Trống",
    "Phường 12",
    "Xã Tân Phú",
    "Xã Ea Kar",
    "Thị trấn Krông Pắc",
    "Phường Hòa Khánh",
)
DISTRICTS = (
    "Quận 1",
    "Quận 3",
    "Quận Cầu Giấy",
    "Quận Hoàn Kiếm",
    "Quận Hải Châu",
    "Huyện Củ Chi",
    "Huyện Đông Anh",
    "Thành phố Thủ Đức",
    "Huyện Buôn Đôn",
)
CITIES = (
    "Thành phố Hồ Chí Minh",
    "Hà Nội",
    "Đà Nẵng",
    "Tỉnh Đắk Lắk",
    "Tỉnh Bình Dương",
    "Tỉnh Quảng Ninh",
    "Cần Thơ",
    "Tỉnh Thừa Thiên Huế",
)
COMPANY_WORDS = (
    "An Phát",
    "Bình Minh",
    "Cửu Long",
    "Đại Dương",
    "Hoàng Gia",
    "Lẵng Hoa Xinh",
    "Gỗ Mỡ Phú Thọ",
    "Thép Việt Ý",
    "May mặc Sông Hồng",
    "Thực phẩm Ánh Dương",
    "Xây dựng Đông Á",
    "Vận tải Hùng Vương",
    "Dệt may Thành Công",
    "Cao đẳng Kỹ thuật Hưng Yên",
    "Đầu tư Ẩn Long",
    "Bếp Nhỏ Phố Hè",
    "Thế Giới Mới",
)
COMPANY_FORMS = (
    "Công ty TNHH",
    "Công ty Cổ phần",
    "Doanh nghiệp tư nhân",
    "Hợp tác xã",
    "Chi nhánh Công ty TNHH",
)
# Genuine text made only of Latin-1 letters: the hardest case for a mojibake detector.
LATIN1_ONLY = (
    "Công nhân may",
    "Lê Hà",
    "Võ Tú",
    "Tô Hoài",
    "Hoà",
    "Lý Tú",
    "Kim Châu",
    "Lê Thùy Anh",
    "Tô Bá Toàn",
    "Hà Tây",
    "Thái Bình",
    "Phó Tâm",
    "CÔNG NHÂN MAY",
    "LÊ HÀ",
    "Thôn Lâm Hà",
    "Bà Rịa",
    "Mai Lê Hoàng Châu",
    "Cà Mau",
    "Bến Tre",
    "Vĩnh Long",
    "Lào Cai",
    "Tây Ninh",
    "Nhân viên IT",
    "Tổ 5, ấp Bình Hòa",
)
# Foreign words and symbols next to Vietnamese, as company names and notes have them.
MIXED = (
    "Café Sài Gòn",
    "Công ty TNHH Nestlé Việt Nam",
    "Nhà hàng Hélène",
    "José Nguyễn",
    "Müller Trần",
    "François Lê",
    "Công ty TNHH Tân Hà®",
    "Tô · Hà",
    "Bánh mì «Hà Nội»",
    "Crème brûlée Tô Hoài",
    "Señor Tú",
    "Ghi chú: nghỉ ½ ngày",
    "Mức lương 9.000.000 đ",
    "Phòng R&D",
    "Lê Hà (nghỉ ốm)",
    "Hợp đồng số 12/2025/HĐLĐ",
    "Cửa hàng Citroën Lê Hà",
    "Công ty TNHH Ñoño",
)


def names(n: int = 600, seed: int = 14) -> list[str]:
    rng = random.Random(seed)
    combos = list(itertools.product(FAMILY, MIDDLE, GIVEN))
    chosen = rng.sample(combos, n)
    out = [" ".join(c) for c in chosen]
    # Every given name at least once, and four-word names.
    out += [f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {g}" for g in GIVEN]
    out += [f"{f} {rng.choice(MIDDLE)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}" for f in FAMILY]
    return out


def addresses(n: int = 150, seed: int = 14) -> list[str]:
    rng = random.Random(seed)
    return [
        f"Số {rng.randint(1, 300)}, đường {rng.choice(STREETS)}, {rng.choice(WARDS)}, "
        f"{rng.choice(DISTRICTS)}, {rng.choice(CITIES)}"
        for _ in range(n)
    ] + [f"Ngõ {i}, ngách {i + 3}, hẻm {i * 2}, {w}" for i, w in enumerate(WARDS, start=1)]


def companies() -> list[str]:
    return [f"{form} {word}" for form in COMPANY_FORMS for word in COMPANY_WORDS]


def genuine() -> list[str]:
    """Every genuine string, as typed (precomposed)."""
    base = names() + list(TITLES) + addresses() + companies() + list(LATIN1_ONLY)
    upper = [s.upper() for s in names()[:200] + list(TITLES) + companies() + addresses()[:40]]
    return base + upper


def decomposed(values: list[str]) -> list[str]:
    return [unicodedata.normalize("NFD", v) for v in values]
