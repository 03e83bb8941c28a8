# -*- coding: utf-8 -*-
"""Hand-encoded naming-convention tables for the name-screening corpus.

Every spelling in this file was typed by hand from the conventions described
in ../README.md.  The builders only *select and combine* entries from these
tables (deterministically, fixed seed); they never invent spellings by random
character edits.

Standard library only.
"""

# ---------------------------------------------------------------------------
# KOREAN
# ---------------------------------------------------------------------------
# Surnames: (hangul, Revised Romanization 2000, McCune-Reischauer with the
# breve/apostrophe dropped as passports and airline systems do (None when the
# bare MR form would be misleading or collide with another surname),
# [other spellings customary in Korean passports]).
# The first entry of the last list is the "usual" spelling an officer writes.
KR_SURNAMES = [
    ('이', 'I', 'Yi', ['Lee', 'Rhee', 'Rie']),
    ('박', 'Bak', 'Pak', ['Park', 'Bahk']),
    ('최', 'Choe', 'Choe', ['Choi', 'Chwe', 'Choy']),
    ('정', 'Jeong', 'Chong', ['Jung', 'Chung', 'Cheong', 'Joung']),
    ('전', 'Jeon', 'Chon', ['Jeon', 'Chun', 'Jun']),
    ('허', 'Heo', None, ['Hur', 'Huh']),          # MR Ho would collide with 호
    ('김', 'Gim', 'Kim', ['Kim']),
    ('강', 'Gang', 'Kang', ['Kang']),
    ('조', 'Jo', 'Cho', ['Cho', 'Joe']),
    ('윤', 'Yun', 'Yun', ['Yoon']),
    ('신', 'Sin', 'Sin', ['Shin']),
    ('오', 'O', 'O', ['Oh']),
    ('노', 'No', 'No', ['Noh', 'Roh']),
    ('류', 'Ryu', 'Yu', ['Ryu', 'Yu', 'Yoo', 'Ryoo', 'Rhyu']),
    ('유', 'Yu', 'Yu', ['Yoo']),
    ('임', 'Im', 'Im', ['Lim', 'Rim', 'Yim']),
    ('장', 'Jang', 'Chang', ['Jang', 'Chang']),
    ('서', 'Seo', 'So', ['Seo', 'Suh']),
    ('황', 'Hwang', 'Hwang', ['Hwang', 'Whang']),
    ('안', 'An', 'An', ['Ahn']),
    ('권', 'Gwon', 'Kwon', ['Kwon', 'Kwun']),
    ('고', 'Go', 'Ko', ['Ko', 'Koh']),
    ('백', 'Baek', 'Paek', ['Baek', 'Paik', 'Baik']),
    ('곽', 'Gwak', 'Kwak', ['Kwak']),
    ('구', 'Gu', 'Ku', ['Koo', 'Ku']),
    ('문', 'Mun', 'Mun', ['Moon']),
    ('배', 'Bae', 'Pae', ['Bae']),
    ('양', 'Yang', 'Yang', ['Yang', 'Ryang']),
    ('성', 'Seong', None, ['Sung']),               # MR Song would collide with 송
    ('주', 'Ju', 'Chu', ['Joo']),
    ('우', 'U', 'U', ['Woo']),
    ('진', 'Jin', 'Chin', ['Jin']),
    ('지', 'Ji', 'Chi', ['Ji', 'Jee']),
    ('엄', 'Eom', None, ['Um', 'Uhm']),
    ('천', 'Cheon', 'Chon', ['Chun']),
    ('방', 'Bang', 'Pang', ['Bang']),
    ('변', 'Byeon', 'Pyon', ['Byun', 'Pyun']),
    ('여', 'Yeo', 'Yo', ['Yeo', 'Yuh']),
    ('추', 'Chu', 'Chu', ['Choo']),
    ('도', 'Do', 'To', ['Do', 'Doh']),
    ('석', 'Seok', 'Sok', ['Suk']),
    ('설', 'Seol', 'Sol', ['Sul']),
    ('길', 'Gil', 'Kil', ['Kil']),
    ('연', 'Yeon', 'Yon', ['Yeon', 'Youn']),
    ('염', 'Yeom', 'Yom', ['Yeom', 'Yum']),
    ('명', 'Myeong', 'Myong', ['Myung']),
    ('기', 'Gi', 'Ki', ['Ki']),
    ('금', 'Geum', 'Kum', ['Keum']),
    ('육', 'Yuk', 'Yuk', ['Yook']),
    ('국', 'Guk', 'Kuk', ['Kook']),
    ('경', 'Gyeong', 'Kyong', ['Kyung']),
    ('두', 'Du', 'Tu', ['Doo']),
    ('제갈', 'Jegal', 'Chegal', ['Jegal']),
    ('남궁', 'Namgung', 'Namgung', ['Namkoong', 'Namkung']),
    ('선우', 'Seonu', 'Sonu', ['Sunwoo']),
    ('독고', 'Dokgo', 'Tokko', ['Dokko']),
    # single-spelling surnames (used in negatives and flights only)
    ('한', 'Han', 'Han', []),
    ('송', 'Song', 'Song', []),
    ('홍', 'Hong', 'Hong', []),
    ('남', 'Nam', 'Nam', []),
    ('하', 'Ha', 'Ha', []),
    ('민', 'Min', 'Min', []),
    ('차', 'Cha', 'Cha', []),
    ('반', 'Ban', 'Pan', []),
]

# rough frequency weights (per cent of population, Statistics Korea 2015
# census order of magnitude) used only to make random picks look natural
KR_SURNAME_WEIGHT = {
    '김': 21.5, '이': 14.7, '박': 8.4, '최': 4.7, '정': 4.3, '강': 2.4, '조': 2.1,
    '윤': 2.1, '장': 2.0, '임': 1.7, '한': 1.5, '오': 1.5, '서': 1.5, '신': 1.5,
    '권': 1.4, '황': 1.4, '안': 1.3, '송': 1.3, '전': 1.1, '홍': 1.1, '유': 1.1,
    '고': 0.9, '문': 0.9, '양': 0.9, '손': 0.9, '배': 0.8, '백': 0.8, '허': 0.6,
    '노': 0.6, '남': 0.5, '하': 0.5, '류': 0.5, '곽': 0.4, '성': 0.4, '차': 0.4,
    '주': 0.4, '우': 0.4, '구': 0.4, '민': 0.3, '진': 0.3, '지': 0.3,
}

# Given names: (hangul, RR with the optional hyphen, MR without diacritics
# (None where the bare MR form collides with another common name), [spellings
# customary in passports / airline data]).  MR forms apply voicing across the
# syllable boundary as McCune-Reischauer does (Tong-hyok, Min-jun, Su-bin).
KR_GIVEN = [
    ('동혁', 'Dong-hyeok', 'Tonghyok', ['Donghyuk', 'Dong Hyuk', 'Dong-hyuk']),
    ('지현', 'Ji-hyeon', 'Chihyon', ['Jihyun', 'Ji Hyun', 'Ji-hyun']),
    ('민준', 'Min-jun', 'Minjun', ['Minjoon', 'Min Joon', 'Min Jun']),
    ('서연', 'Seo-yeon', 'Soyon', ['Seoyeon', 'Seo Yeon', 'Seoyoun']),
    ('지훈', 'Ji-hun', 'Chihun', ['Jihoon', 'Ji Hoon', 'Ji-hoon']),
    ('영수', 'Yeong-su', 'Yongsu', ['Youngsoo', 'Young Soo', 'Young-soo']),
    ('성민', 'Seong-min', 'Songmin', ['Sungmin', 'Sung Min', 'Sung-min']),
    ('은정', 'Eun-jeong', 'Unjong', ['Eunjung', 'Eun Jung', 'Eun-jung']),
    ('재석', 'Jae-seok', 'Chaesok', ['Jaesuk', 'Jae Suk', 'Jae-suk']),
    ('철수', 'Cheol-su', 'Cholsu', ['Chulsoo', 'Chul Soo', 'Chul-soo']),
    ('경희', 'Gyeong-hui', 'Kyonghui', ['Kyunghee', 'Kyung Hee', 'Kyung-hee']),
    ('혜진', 'Hye-jin', 'Hyejin', ['Hye Jin']),
    ('승민', 'Seung-min', 'Sungmin', ['Seungmin', 'Seung Min']),
    ('상우', 'Sang-u', 'Sangu', ['Sangwoo', 'Sang Woo', 'Sang-woo']),
    ('수진', 'Su-jin', 'Sujin', ['Soojin', 'Soo Jin', 'Soo-jin']),
    ('미영', 'Mi-yeong', 'Miyong', ['Miyoung', 'Mi Young', 'Mi-young']),
    ('정호', 'Jeong-ho', 'Chongho', ['Jungho', 'Jung Ho', 'Jung-ho']),
    ('현우', 'Hyeon-u', 'Hyonu', ['Hyunwoo', 'Hyun Woo', 'Hyun-woo']),
    ('준호', 'Jun-ho', 'Chunho', ['Joonho', 'Joon Ho', 'Jun Ho']),
    ('태현', 'Tae-hyeon', 'Taehyon', ['Taehyun', 'Tae Hyun', 'Tae-hyun']),
    ('은지', 'Eun-ji', 'Unji', ['Eunji', 'Eun Ji']),
    ('지원', 'Ji-won', 'Chiwon', ['Jiwon', 'Ji Won']),
    ('민지', 'Min-ji', 'Minji', ['Min Ji']),
    ('유진', 'Yu-jin', 'Yujin', ['Yoojin', 'Yoo Jin', 'Yoo-jin']),
    ('하은', 'Ha-eun', 'Haun', ['Haeun', 'Ha Eun']),
    ('서준', 'Seo-jun', 'Sojun', ['Seojoon', 'Seo Joon', 'Seo Jun']),
    ('도윤', 'Do-yun', 'Toyun', ['Doyoon', 'Do Yoon', 'Do-yoon']),
    ('예준', 'Ye-jun', 'Yejun', ['Yejoon', 'Ye Joon', 'Ye Jun']),
    ('시우', 'Si-u', 'Shiu', ['Siwoo', 'Si Woo', 'Shiwoo']),
    ('주원', 'Ju-won', 'Chuwon', ['Joowon', 'Joo Won', 'Joo-won']),
    ('건우', 'Geon-u', 'Konu', ['Gunwoo', 'Gun Woo', 'Keonwoo']),
    ('우진', 'U-jin', 'Ujin', ['Woojin', 'Woo Jin', 'Woo-jin']),
    ('현준', 'Hyeon-jun', 'Hyonjun', ['Hyunjun', 'Hyun Joon', 'Hyun-jun']),
    ('민재', 'Min-jae', 'Minjae', ['Min Jae']),
    ('지민', 'Ji-min', 'Chimin', ['Jimin', 'Ji Min']),
    ('수빈', 'Su-bin', 'Subin', ['Soobin', 'Soo Bin', 'Soo-bin']),
    ('채원', 'Chae-won', 'Chaewon', ['Chae Won']),
    ('다은', 'Da-eun', 'Taun', ['Daeun', 'Da Eun']),
    ('윤서', 'Yun-seo', 'Yunso', ['Yoonseo', 'Yoon Seo', 'Yoon-seo']),
    ('상철', 'Sang-cheol', 'Sangchol', ['Sangchul', 'Sang Chul', 'Sang-chul']),
    ('영호', 'Yeong-ho', 'Yongho', ['Youngho', 'Young Ho', 'Young-ho']),
    ('광수', 'Gwang-su', 'Kwangsu', ['Kwangsoo', 'Kwang Soo', 'Kwang-soo']),
    ('명숙', 'Myeong-suk', 'Myongsuk', ['Myungsook', 'Myung Sook', 'Myung-sook']),
    ('영희', 'Yeong-hui', 'Yonghui', ['Younghee', 'Young Hee', 'Young-hee']),
    ('정숙', 'Jeong-suk', 'Chongsuk', ['Jungsook', 'Jung Sook', 'Jung-sook']),
    ('미경', 'Mi-gyeong', 'Migyong', ['Mikyung', 'Mi Kyung', 'Mi-kyung']),
    ('경수', 'Gyeong-su', 'Kyongsu', ['Kyungsoo', 'Kyung Soo', 'Kyung-soo']),
    ('병철', 'Byeong-cheol', 'Pyongchol', ['Byungchul', 'Byung Chul', 'Byung-chul']),
    ('기현', 'Gi-hyeon', 'Kihyon', ['Kihyun', 'Ki Hyun', 'Ki-hyun']),
    ('형준', 'Hyeong-jun', 'Hyongjun', ['Hyungjun', 'Hyung Joon', 'Hyung-jun']),
    ('재훈', 'Jae-hun', 'Chaehun', ['Jaehoon', 'Jae Hoon', 'Jae-hoon']),
    ('성호', 'Seong-ho', 'Songho', ['Sungho', 'Sung Ho', 'Sung-ho']),
    ('동현', 'Dong-hyeon', 'Tonghyon', ['Donghyun', 'Dong Hyun', 'Dong-hyun']),
    ('승우', 'Seung-u', 'Sungu', ['Seungwoo', 'Seung Woo', 'Sungwoo']),
    ('혜원', 'Hye-won', 'Hyewon', ['Hye Won']),
    ('수민', 'Su-min', 'Sumin', ['Soomin', 'Soo Min', 'Soo-min']),
    ('진우', 'Jin-u', 'Chinu', ['Jinwoo', 'Jin Woo', 'Jin-woo']),
    ('은비', 'Eun-bi', 'Unbi', ['Eunbi', 'Eun Bi']),
    ('동욱', 'Dong-uk', 'Tonguk', ['Dongwook', 'Dong Wook', 'Dong-wook']),
    ('정훈', 'Jeong-hun', 'Chonghun', ['Junghoon', 'Jung Hoon', 'Jung-hoon']),
    ('상훈', 'Sang-hun', 'Sanghun', ['Sanghoon', 'Sang Hoon', 'Sang-hoon']),
    ('태훈', 'Tae-hun', 'Taehun', ['Taehoon', 'Tae Hoon']),
    ('영미', 'Yeong-mi', 'Yongmi', ['Youngmi', 'Young Mi', 'Young-mi']),
    ('정순', 'Jeong-sun', 'Chongsun', ['Jungsoon', 'Jung Soon']),
    ('명순', 'Myeong-sun', 'Myongsun', ['Myungsoon', 'Myung Soon']),
    ('광호', 'Gwang-ho', 'Kwangho', ['Kwang Ho']),
    ('병수', 'Byeong-su', 'Pyongsu', ['Byungsoo', 'Byung Soo']),
    ('종민', 'Jong-min', 'Chongmin', ['Jongmin', 'Jong Min']),
    ('종현', 'Jong-hyeon', None, ['Jonghyun', 'Jong Hyun']),   # MR Chonghyon = 정현
    ('대호', 'Dae-ho', None, ['Daeho', 'Dae Ho']),             # MR Taeho = 태호
    ('대현', 'Dae-hyeon', None, ['Daehyun', 'Dae Hyun']),      # MR Taehyon = 태현
    ('기훈', 'Gi-hun', 'Kihun', ['Kihoon', 'Ki Hoon']),
    ('형진', 'Hyeong-jin', 'Hyongjin', ['Hyungjin', 'Hyung Jin']),
    ('성훈', 'Seong-hun', 'Songhun', ['Sunghoon', 'Sung Hoon']),
    ('성현', 'Seong-hyeon', 'Songhyon', ['Sunghyun', 'Sung Hyun']),
    ('승현', 'Seung-hyeon', 'Sunghyon', ['Seunghyun', 'Seung Hyun']),
    ('승호', 'Seung-ho', 'Sungho', ['Seungho', 'Seung Ho']),
    ('진호', 'Jin-ho', 'Chinho', ['Jinho', 'Jin Ho']),
    ('재현', 'Jae-hyeon', 'Chaehyon', ['Jaehyun', 'Jae Hyun']),
    ('동훈', 'Dong-hun', 'Tonghun', ['Donghoon', 'Dong Hoon']),
    ('민정', 'Min-jeong', 'Minjong', ['Minjung', 'Min Jung']),
    ('유나', 'Yu-na', 'Yuna', ['Yoona', 'Yoo Na']),
    ('지우', 'Ji-u', 'Chiu', ['Jiwoo', 'Ji Woo']),
    ('지유', 'Ji-yu', 'Chiyu', ['Jiyoo', 'Ji Yoo']),
    ('하윤', 'Ha-yun', 'Hayun', ['Hayoon', 'Ha Yoon']),
    ('도현', 'Do-hyeon', 'Tohyon', ['Dohyun', 'Do Hyun']),
    ('서진', 'Seo-jin', 'Sojin', ['Seojin', 'Seo Jin']),
    ('예진', 'Ye-jin', 'Yejin', ['Ye Jin']),
    ('시후', 'Si-hu', 'Shihu', ['Sihoo', 'Si Hoo']),
    ('건호', 'Geon-ho', 'Konho', ['Gunho', 'Gun Ho', 'Keonho']),
    ('선우', 'Seon-u', 'Sonu', ['Sunwoo', 'Sun Woo']),
    ('선호', 'Seon-ho', 'Sonho', ['Sunho', 'Sun Ho']),
    ('현수', 'Hyeon-su', 'Hyonsu', ['Hyunsoo', 'Hyun Soo']),
    ('준서', 'Jun-seo', 'Chunso', ['Junseo', 'Joonseo', 'Joon Seo']),
    ('지완', 'Ji-wan', 'Chiwan', ['Jiwan', 'Ji Wan']),
    ('은주', 'Eun-ju', 'Unju', ['Eunjoo', 'Eun Joo']),
    ('수정', 'Su-jeong', 'Sujong', ['Soojung', 'Soo Jung']),
    ('경민', 'Gyeong-min', 'Kyongmin', ['Kyungmin', 'Kyung Min']),
]

# Pairs of DIFFERENT Korean given names (one syllable apart).  The builder
# asserts that no romanization of one equals a romanization of the other.
KR_NEG_GIVEN_PAIRS = [
    ('동혁', '동현'), ('지현', '지훈'), ('민준', '민재'), ('지원', '지완'),
    ('현우', '현수'), ('준호', '준서'), ('성민', '성현'), ('은정', '은주'),
    ('수진', '수정'), ('혜진', '혜원'), ('영수', '영호'), ('민지', '민정'),
    ('유진', '유나'), ('하은', '하윤'), ('지우', '지유'), ('재훈', '재현'),
    ('승민', '승현'), ('동욱', '동훈'), ('정호', '정훈'), ('상우', '상훈'),
    ('태현', '태훈'), ('은지', '은비'), ('경수', '경민'), ('미영', '미경'),
    ('영희', '영미'), ('정숙', '정순'), ('명숙', '명순'), ('광수', '광호'),
    ('병철', '병수'), ('종민', '종현'), ('대호', '대현'), ('기현', '기훈'),
    ('형준', '형진'), ('성호', '성훈'), ('승우', '승호'), ('수민', '수빈'),
    ('진우', '진호'), ('서준', '서진'), ('도윤', '도현'), ('예준', '예진'),
    ('시우', '시후'), ('건우', '건호'), ('선우', '선호'), ('지훈', '재훈'),
    ('민지', '은지'), ('수진', '혜진'), ('영호', '정호'), ('상훈', '정훈'),
    ('현준', '현우'), ('동현', '도현'), ('하은', '다은'), ('지민', '수민'),
]

# Pairs of DIFFERENT surnames (not romanization variants of each other).
KR_NEG_SURNAME_PAIRS = [
    ('이', '윤'), ('김', '임'), ('최', '조'), ('강', '장'), ('한', '안'),
    ('노', '오'), ('윤', '유'), ('고', '구'), ('진', '전'), ('문', '민'),
    ('배', '백'), ('정', '장'), ('양', '장'), ('권', '곽'), ('남', '한'),
    ('하', '한'), ('우', '유'), ('박', '백'), ('조', '주'), ('차', '채'),
    ('길', '기'), ('염', '엄'), ('서', '성'), ('송', '홍'), ('신', '진'),
]
# 채 appears only in the pair above
KR_SURNAMES_EXTRA = [('채', 'Chae', 'Chae', [])]

# ---------------------------------------------------------------------------
# VIETNAMESE
# ---------------------------------------------------------------------------
VN_FAMILY = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Phan', 'Vũ', 'Võ',
             'Đặng', 'Bùi', 'Đỗ', 'Hồ', 'Ngô', 'Dương', 'Lý', 'Đinh', 'Đào',
             'Trương', 'Lâm', 'Mai', 'Tạ', 'Cao', 'Hà', 'Tô', 'Lưu', 'Đoàn',
             'Vương', 'Trịnh', 'Lương']
# rough weights for flight manifests (Nguyễn ~38 %, Trần ~11 % ...)
VN_FAMILY_WEIGHT = {'Nguyễn': 38, 'Trần': 11, 'Lê': 9.5, 'Phạm': 7, 'Hoàng': 3,
                    'Huỳnh': 2, 'Phan': 4.5, 'Vũ': 2, 'Võ': 2, 'Đặng': 2.1,
                    'Bùi': 2, 'Đỗ': 1.4, 'Hồ': 1.3, 'Ngô': 1.3, 'Dương': 1,
                    'Lý': 0.5}
VN_MIDDLE_M = ['Văn', 'Hữu', 'Đức', 'Minh', 'Quang', 'Công', 'Thành', 'Xuân',
               'Ngọc', 'Tuấn', 'Quốc', 'Trọng', 'Đình', 'Văn', 'Văn', 'Văn']
VN_MIDDLE_F = ['Thị', 'Ngọc', 'Thu', 'Thanh', 'Kim', 'Hồng', 'Phương', 'Mỹ',
               'Bích', 'Thị', 'Thị', 'Thị Thu', 'Thị Ngọc', 'Thị Thanh',
               'Thị Kim']
VN_GIVEN_M = ['An', 'Anh', 'Bình', 'Cường', 'Dũng', 'Đạt', 'Đức', 'Duy', 'Hải',
              'Hiếu', 'Hoàng', 'Hùng', 'Huy', 'Khánh', 'Khoa', 'Long', 'Lộc',
              'Minh', 'Nam', 'Nhân', 'Phong', 'Phúc', 'Quân', 'Quang', 'Sơn',
              'Tài', 'Tâm', 'Thắng', 'Thành', 'Thịnh', 'Trung', 'Tú', 'Tuấn',
              'Việt', 'Vinh', 'Đông', 'Định', 'Toàn', 'Hậu', 'Tiến']
VN_GIVEN_F = ['Anh', 'Dung', 'Giang', 'Hà', 'Hạnh', 'Hằng', 'Hiền', 'Hoa',
              'Hương', 'Lan', 'Linh', 'Loan', 'Mai', 'Nga', 'Ngân', 'Ngọc',
              'Nhung', 'Phương', 'Quỳnh', 'Tâm', 'Thảo', 'Thủy', 'Trang', 'Trinh',
              'Vân', 'Vy', 'Yến', 'Oanh', 'Diệp', 'Huyền']

# ---------------------------------------------------------------------------
# THAI  [thai script, RTGS, other passport spellings...]
# ---------------------------------------------------------------------------
TH_FIRST = [
    ['สมชาย', 'Somchai', 'Somchay'],
    ['ประเสริฐ', 'Prasoet', 'Prasert'],
    ['สุชาติ', 'Suchat', 'Suchart', 'Suchard'],
    ['วิชัย', 'Wichai', 'Vichai', 'Vichay'],
    ['วันชัย', 'Wanchai', 'Vanchai'],
    ['สุรชัย', 'Surachai', 'Surachay'],
    ['ธนวัฒน์', 'Thanawat', 'Tanawat', 'Thanawath'],
    ['กิตติศักดิ์', 'Kittisak', 'Kittisack', 'Kitisak'],
    ['ณัฐพงษ์', 'Natthaphong', 'Nattapong', 'Nuttapong', 'Nattaphong'],
    ['อภิชาติ', 'Aphichat', 'Apichart', 'Apichat'],
    ['พรชัย', 'Phonchai', 'Pornchai', 'Ponchai'],
    ['สมพร', 'Somphon', 'Somporn', 'Sompon'],
    ['ศุภชัย', 'Suphachai', 'Supachai', 'Suppachai'],
    ['ประยุทธ', 'Prayut', 'Prayuth', 'Prayoot'],
    ['บุญชัย', 'Bunchai', 'Boonchai', 'Boonchay'],
    ['บุญมี', 'Bunmi', 'Boonmee', 'Boonmi'],
    ['สมบัติ', 'Sombat', 'Sombut', 'Sombath'],
    ['ฉัตรชัย', 'Chatchai', 'Chartchai', 'Chadchai'],
    ['วิรัตน์', 'Wirat', 'Virat', 'Virath'],
    ['พิชิต', 'Phichit', 'Pichit', 'Pichid'],
    ['ธงชัย', 'Thongchai', 'Tongchai', 'Thongchay'],
    ['จิรวัฒน์', 'Chirawat', 'Jirawat', 'Jiravat'],
    ['รุ่งโรจน์', 'Rungrot', 'Rungroj', 'Rungroch'],
    ['มาลี', 'Mali', 'Malee', 'Malie'],
    ['สุนีย์', 'Suni', 'Sunee'],
    ['ศิริพร', 'Siriphon', 'Siriporn', 'Siripon'],
    ['ปราณี', 'Prani', 'Pranee'],
    ['วนิดา', 'Wanida', 'Vanida'],
    ['นิตยา', 'Nittaya', 'Nitaya'],
    ['ดวงใจ', 'Duangchai', 'Duangjai'],
    ['จินตนา', 'Chintana', 'Jintana'],
    ['จารุวรรณ', 'Charuwan', 'Jaruwan', 'Jaruvan'],
    ['พิมพ์ชนก', 'Phimchanok', 'Pimchanok'],
    ['รัตนา', 'Rattana', 'Ratana', 'Ratthana'],
    ['ศศิธร', 'Sasithon', 'Sasithorn', 'Sasitorn'],
    ['อรทัย', 'Orathai', 'Oratai', 'Orathay'],
    ['พรทิพย์', 'Phonthip', 'Porntip', 'Pornthip'],
    ['สุภาพร', 'Suphaphon', 'Supaporn', 'Suphaporn'],
    ['อัมพร', 'Amphon', 'Amporn', 'Ampon'],
    ['สมศรี', 'Somsi', 'Somsri'],
]
TH_SURNAMES = [
    ['วงศ์สวัสดิ์', 'Wongsawat', 'Wongsavat', 'Wongsawasdi'],
    ['ชัยภูมิ', 'Chaiyaphum', 'Chaiyapoom', 'Chaiyaphoom'],
    ['ศรีสุข', 'Sisuk', 'Srisuk', 'Srisook'],
    ['แซ่ตั้ง', 'Saetang', 'Sae-tang', 'Sae Tang'],
    ['แซ่ลิ้ม', 'Saelim', 'Sae-lim', 'Sae Lim'],
    ['ทองดี', 'Thongdi', 'Thongdee', 'Tongdee'],
    ['บุญรัตน์', 'Bunrat', 'Boonrat', 'Boonrath'],
    ['สุวรรณรัตน์', 'Suwannarat', 'Suvannarat', 'Suwannarath'],
    ['แก้วคำ', 'Kaeokham', 'Kaewkham', 'Keawkham'],
    ['จันทวงศ์', 'Chanthawong', 'Jantawong', 'Chantawong'],
    ['รัตนากร', 'Rattanakon', 'Rattanakorn', 'Ratanakorn'],
    ['ใจดี', 'Chaidi', 'Jaidee', 'Jaidi'],
    ['พงษ์พันธ์', 'Phongphan', 'Pongpan', 'Pongphan'],
    ['ศิริวงศ์', 'Siriwong', 'Sirivong'],
    ['คำสุข', 'Khamsuk', 'Kamsuk', 'Khamsook'],
    ['บุญส่ง', 'Bunsong', 'Boonsong'],
    ['แสงทอง', 'Saengthong', 'Sangthong', 'Saengtong'],
    ['เจริญกุล', 'Charoenkun', 'Charoenkul', 'Jaroenkul'],
    ['พันธ์ทอง', 'Phanthong', 'Panthong', 'Pantong'],
    ['ประเสริฐศรี', 'Prasoetsi', 'Prasertsri'],
    ['ชัยประเสริฐ', 'Chaiprasoet', 'Chaiprasert'],
    ['มหาวงศ์', 'Mahawong', 'Mahavong'],
    ['วัฒนา', 'Watthana', 'Wattana', 'Vattana'],
    ['พวงมาลัย', 'Phuangmalai', 'Puangmalai', 'Phuangmalay'],
    ['คงแก้ว', 'Khongkaeo', 'Kongkaew', 'Khongkaew'],
    ['ศรีสมบัติ', 'Sisombat', 'Srisombat', 'Srisombath'],
    ['รุ่งเรือง', 'Rungrueang', 'Rungruang', 'Rungrueng'],
    ['ทองมา', 'Thongma', 'Tongma'],
    ['สมบูรณ์', 'Sombun', 'Somboon'],
    ['เพชรสุวรรณ', 'Phetsuwan', 'Petchsuwan', 'Phetchsuwan'],
]

# ---------------------------------------------------------------------------
# KHMER (family name first) and LAO (given name first): spelling variants
# ---------------------------------------------------------------------------
KH_SURNAMES = [['Sok'], ['Chea', 'Chia'], ['Heng'], ['Hun'], ['Keo'], ['Ly'],
               ['Chan'], ['Meas'], ['Pich', 'Pech'], ['Prak'], ['Sam'], ['Seng'],
               ['Sim'], ['Sun', 'Soun'], ['Touch', 'Toch'], ['Nhem', 'Nhim'],
               ['Chhun', 'Chhoun'], ['Chhay', 'Chhai'], ['Nuon', 'Nuorn'],
               ['Khieu', 'Khiev'], ['Srun', 'Sroun'], ['Oum', 'Um'],
               ['Tith', 'Tit'], ['Chhim', 'Chim'], ['Yim'], ['Mao'], ['Long'],
               ['Kong'], ['Hem'], ['Leng'], ['Tep']]
KH_GIVEN = [['Sokha', 'Sokhar'], ['Sophal', 'Sophall'], ['Dara', 'Darra'],
            ['Vanna', 'Vana', 'Vannah'], ['Bopha', 'Bupha', 'Bophar'],
            ['Chanthou', 'Chanthu', 'Chantou'], ['Sothea', 'Sothia'],
            ['Vuthy', 'Vuthi', 'Vutthy'], ['Rithy', 'Rithi', 'Ritthy'],
            ['Samnang', 'Somnang'], ['Piseth', 'Piset'], ['Sovann', 'Sovan'],
            ['Sreymom', 'Srey Mom'], ['Sreyleak', 'Srey Leak'],
            ['Kosal', 'Kosol'], ['Chantrea', 'Chantria'], ['Phalla', 'Phala'],
            ['Sambath', 'Sambat'], ['Chenda', 'Chendar'],
            ['Leakhena', 'Leakena'], ['Chamroeun', 'Chamroeurn', 'Chamroen'],
            ['Saroeun', 'Saroeurn'], ['Veasna', 'Veasnar'], ['Thida', 'Thidar'],
            ['Kunthea', 'Kunthia'], ['Rotha', 'Rothar'],
            ['Pheakdey', 'Pheakdei', 'Peakdey'], ['Borey', 'Borei'],
            ['Sopheap', 'Sopheab'], ['Vibol', 'Viboul', 'Vibul'],
            ['Sokhom', 'Sokhum'], ['Makara', 'Makkara']]
LA_SURNAMES = [['Phommachanh', 'Phommachan', 'Phommachane'],
               ['Vongxay', 'Vongsay', 'Vongsai'],
               ['Sisavath', 'Sisavat', 'Sysavath'], ['Keomany', 'Keomani'],
               ['Inthavong', 'Intavong'], ['Xayavong', 'Sayavong', 'Xaiyavong'],
               ['Phengsavanh', 'Phengsavan', 'Phengsavane'],
               ['Thammavong', 'Tammavong'],
               ['Douangmala', 'Duangmala', 'Douangmalar'],
               ['Chanthavong', 'Chantavong'], ['Sayasone', 'Xayasone', 'Sayason'],
               ['Luangrath', 'Louangrath', 'Luangrat'],
               ['Vilaysack', 'Vilaysak', 'Vilaisack'],
               ['Soulivong', 'Sulivong'], ['Phimmasone', 'Phimmason'],
               ['Manivong', 'Manyvong'], ['Sihalath', 'Sihalat'],
               ['Khounphanh', 'Khounphan', 'Khunphan'],
               ['Souvannavong', 'Suvannavong', 'Souvanavong'],
               ['Siphandone', 'Siphandon', 'Syphandone'],
               ['Vongsavath', 'Vongsavat'],
               ['Sengsouvanh', 'Sengsouvan', 'Sengsuvan']]
LA_GIVEN = [['Souksavanh', 'Souksavan', 'Suksavan'], ['Bounmy', 'Bounmi', 'Bunmy'],
            ['Khamphanh', 'Khamphan', 'Kamphanh'],
            ['Somphone', 'Somphon', 'Sompone'],
            ['Phonesavanh', 'Phonsavan', 'Phonesavan'], ['Vilay', 'Vilai'],
            ['Manivanh', 'Manivan'], ['Chanthala', 'Chantala'],
            ['Saysana', 'Xaysana', 'Saisana'], ['Bouasone', 'Buasone', 'Bouason'],
            ['Phouthone', 'Phouthon', 'Phuthone'], ['Daovone', 'Daovon'],
            ['Sisouk', 'Sisuk'], ['Soulideth', 'Soulidet', 'Sulideth'],
            ['Thongsavanh', 'Thongsavan', 'Tongsavanh'],
            ['Viengxay', 'Viengsay', 'Vieng Xay'],
            ['Chansamone', 'Chansamon'], ['Khamla', 'Kham La'],
            ['Kongkeo', 'Kongkaeo'], ['Latsamy', 'Latsami'],
            ['Sonexay', 'Sonxay', 'Sonesay'], ['Malayvanh', 'Malayvan', 'Malaivanh']]

# ---------------------------------------------------------------------------
# MALAY patronymic names.  Tokens beginning with '@' are variant groups.
# ---------------------------------------------------------------------------
MY_GROUPS = {
    'MOHD': {'full': ['Muhammad', 'Mohammad', 'Mohamad', 'Mohamed', 'Mohammed'],
             'abbr': ['Mohd', 'Mohd.', 'Md']},
    'MUHD': {'full': ['Muhammad'], 'abbr': ['Muhd', 'Muhd.']},
    'ABD': {'full': ['Abdul'], 'abbr': ['Abd', 'Abd.']},
    'NUR': {'full': ['Nur'], 'abbr': ['Noor']},
    'HAJI': {'full': ['Haji'], 'abbr': ['Hj', 'Hj.']},
    'TENGKU': {'full': ['Tengku'], 'abbr': ['Tg', 'Tg.']},
    'BIN': {'full': ['bin'], 'abbr': ['b.', 'bn', 'B']},
    'BINTI': {'full': ['binti'], 'abbr': ['bt', 'bt.', 'bte', 'binte']},
}
MY_M_GIVEN = [
    ['@MOHD', 'Faizal'], ['@MOHD', 'Rizal'], ['@MOHD', 'Hafiz'], ['@MOHD', 'Azlan'],
    ['@MOHD', 'Firdaus'], ['@MOHD', 'Syafiq'], ['@MOHD', 'Khairul', 'Anuar'],
    ['@MOHD', 'Nazri'], ['@MOHD', 'Fauzi'], ['@MOHD', 'Zulkifli'],
    ['@MUHD', 'Haziq'], ['@MUHD', 'Amirul', 'Hakim'], ['@MUHD', 'Danial'],
    ['@ABD', 'Rahman'], ['@ABD', 'Aziz'], ['@ABD', 'Latif'], ['@ABD', 'Hamid'],
    ['@ABD', 'Karim'], ['@ABD', 'Halim'], ['@ABD', 'Razak'], ['@ABD', 'Wahab'],
    ['@ABD', 'Malik'], ['@ABD', 'Ghani'],
    ['Ahmad', 'Faizal'], ['Kamarul', 'Ariffin'], ['Shahrul', 'Nizam'], ['Azman'],
    ['Rosli'], ['Ismail'], ['Hassan'], ['Ahmad'], ['Zainal', 'Abidin'],
]
MY_F_GIVEN = [
    ['@NUR', 'Aisyah'], ['@NUR', 'Izzati'], ['@NUR', 'Syafiqah'], ['@NUR', 'Farhana'],
    ['@NUR', 'Hidayah'], ['@NUR', 'Atiqah'], ['Siti', 'Aminah'], ['Siti', 'Khadijah'],
    ['Siti', 'Hajar'], ['Siti', 'Mariam'], ['Nurul', 'Huda'], ['Nurul', 'Ain'],
    ['Farah'], ['Zarina'], ['Rohani'], ['Salmah'], ['Norhayati'], ['Fatimah'],
    ['Rosnah'],
]
MY_FATHER = [
    ['Ismail'], ['Ibrahim'], ['Ahmad'], ['Osman'], ['Hassan'], ['Hussin'], ['Yusof'],
    ['Abdullah'], ['@ABD', 'Rahman'], ['@ABD', 'Latif'], ['@ABD', 'Ghani'],
    ['@MOHD', 'Salleh'], ['@MOHD', 'Yusof'], ['@MOHD', 'Noor'], ['Jaafar'],
    ['Zakaria'], ['Hamzah'], ['Sulaiman'], ['Othman'], ['Kassim'], ['Ali'], ['Omar'],
    ['@HAJI', 'Ismail'], ['@HAJI', '@MOHD', 'Noor'], ['@HAJI', '@ABD', 'Rahman'],
    ['@HAJI', 'Yaakob'],
]
MY_TENGKU = [(['@TENGKU', 'Ahmad', 'Shah'], ['@TENGKU', 'Ismail']),
             (['@TENGKU', 'Iskandar'], ['@TENGKU', 'Abdullah']),
             (['@TENGKU', 'Nur', 'Aini'], ['@TENGKU', 'Hamzah'])]   # last one female
# male names usable both as own name and as father's name (for swaps)
MY_SWAP_POOL = [
    ['Ahmad'], ['Ismail'], ['Ibrahim'], ['Osman'], ['Hassan'], ['Yusof'], ['Rahman'],
    ['Jaafar'], ['Zakaria'], ['Hamzah'], ['Sulaiman'], ['Kassim'], ['Omar'], ['Ali'],
    ['Azman'], ['Rosli'], ['Razak'], ['Hashim'], ['Salleh'], ['Mahmud'],
    ['@ABD', 'Rahman'], ['@ABD', 'Latif'], ['@ABD', 'Aziz'], ['@ABD', 'Hamid'],
    ['@ABD', 'Karim'], ['@ABD', 'Ghani'], ['@MOHD', 'Faizal'], ['@MOHD', 'Rizal'],
    ['@MOHD', 'Salleh'], ['@MOHD', 'Yusof'], ['@MOHD', 'Nazri'], ['@MOHD', 'Hafiz'],
    ['Kamarul', 'Ariffin'], ['Zainal', 'Abidin'], ['Shahrul', 'Nizam'],
]
MY_SYED_POOL = [['Syed', 'Ahmad'], ['Syed', 'Hussin'], ['Syed', 'Omar'],
                ['Syed', 'Hamid'], ['Syed', 'Ali'], ['Syed', 'Mokhtar']]

# ---------------------------------------------------------------------------
# CHINESE (PRC pinyin) and CHINESE-MALAYSIAN
# ---------------------------------------------------------------------------
CN_SURNAMES = ['Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang', 'Huang', 'Zhao', 'Wu',
               'Zhou', 'Xu', 'Sun', 'Ma', 'Zhu', 'Hu', 'Guo', 'He', 'Lin', 'Gao',
               'Luo', 'Zheng', 'Liang', 'Xie', 'Song', 'Tang', 'Han', 'Feng',
               'Deng', 'Cao', 'Peng']
CN_COMPOUND_SURNAMES = ['Ouyang', 'Situ', 'Shangguan']
# two-syllable given names (syllable 2 starting with a/o/e needs the pinyin
# apostrophe: Jun'an, Yong'an, Hai'ou)
CN_GIVEN2 = [('Xiao', 'ming'), ('Jian', 'guo'), ('Hao', 'ran'), ('Yu', 'xuan'),
             ('Zi', 'han'), ('Xin', 'yi'), ('Jia', 'hui'), ('Li', 'juan'),
             ('Guo', 'qiang'), ('Jian', 'hua'), ('Xiu', 'ying'), ('Jun', 'jie'),
             ('Hai', 'yan'), ('Yan', 'ping'), ('Zhi', 'qiang'), ('Dong', 'mei'),
             ('Xiao', 'hong'), ('Wen', 'jun'), ('Yi', 'fan'), ('Zhi', 'wei'),
             ('Ming', 'yu'), ('Chun', 'hua'), ('Hong', 'mei'), ('Jun', 'an'),
             ('Yong', 'an'), ('Hai', 'ou'), ('Jing', 'yi'), ('Shu', 'fen'),
             ('Wei', 'dong'), ('Li', 'ping')]
CN_GIVEN1 = ['Wei', 'Jie', 'Lei', 'Fang', 'Min', 'Jing', 'Tao', 'Qiang', 'Yan', 'Bo',
             'Yong', 'Hui', 'Na', 'Peng', 'Xin']
MYC_SURNAMES = ['Tan', 'Lim', 'Lee', 'Ng', 'Wong', 'Chan', 'Ong', 'Teh', 'Goh',
                'Chong', 'Yap', 'Low', 'Khoo', 'Cheah', 'Ooi', 'Lau', 'Leong', 'Koh',
                'Chin', 'Foo', 'Liew', 'Tay', 'Loh', 'Sim', 'Chew', 'Yeoh', 'Heng',
                'Ho', 'Kok', 'Gan', 'Soo', 'Chua', 'Tee', 'Lai']
MYC_GIVEN_M = ['Ah Kow', 'Wei Ming', 'Kok Leong', 'Chee Keong', 'Boon Hock',
               'Eng Huat', 'Kah Wai', 'Kian Seng', 'Soon Huat', 'Ah Seng',
               'Beng Hock', 'Wai Keong', 'Kim Huat', 'Chin Hock', 'Kar Wai',
               'Choon Hong', 'Teck Soon']
MYC_GIVEN_F = ['Mei Ling', 'Siew Lan', 'Jia Hui', 'Li Ying', 'Hui Min', 'Pei Shan',
               'Yee Ling', 'Swee Lin', 'Geok Lan', 'Poh Choo', 'Sook Fun', 'Mun Yee',
               'Ah Lian']
MYC_WEST_M = ['Jason', 'Kelvin', 'Alvin', 'Vincent', 'Raymond', 'Desmond', 'Eugene',
              'Melvin', 'Adrian', 'Kenny', 'Daniel']
MYC_WEST_F = ['Jessica', 'Michelle', 'Winnie', 'Cheryl', 'Jasmine', 'Sharon', 'Irene',
              'Grace', 'Joanne']

# ---------------------------------------------------------------------------
# DUTCH / GERMAN
# ---------------------------------------------------------------------------
NL_GIVEN = ['Jan', 'Pieter', 'Johannes', 'Hendrik', 'Cornelis', 'Willem', 'Sander',
            'Bram', 'Daan', 'Thijs', 'Ruben', 'Sanne', 'Anouk', 'Femke', 'Lotte',
            'Eva', 'Marieke', 'Joost', 'Bas', 'Sjoerd', 'Wouter', 'Gerrit', 'Dirk',
            'Ruud', 'Jeroen', 'Roel', 'Annelies', 'Ilse', 'Esther', 'Marloes',
            'Daniël', 'Noël', 'Chloë', 'Zoë', 'Joëlle', 'Michiel', 'Maarten',
            'IJsbrand']
NL_PARTICLE_SURNAMES = ['van der Berg', 'van den Berg', 'van Dijk', 'de Vries',
                        'de Jong', 'van der Meer', 'van den Bosch', 'van Leeuwen',
                        'van der Linden', 'ter Haar', 'ten Brink', "van 't Hof",
                        "in 't Veld", 'de Boer', 'van der Heijden', 'de Graaf',
                        'van Beek', 'op den Kamp', 'van Dam', 'de Wit', 'van der Wal',
                        'de Groot', 'van Vliet', 'van Rijn', 'van den Heuvel',
                        'de Bruijn', 'van Wijk', 'ter Horst']
DE_GIVEN = ['Jürgen', 'Jörg', 'Björn', 'Sören', 'Günter', 'Günther', 'Käthe',
            'Bärbel', 'Thomas', 'Michael', 'Andreas', 'Stefan', 'Sabine', 'Katrin',
            'Hans-Peter', 'Karl-Heinz', 'Klaus-Dieter', 'Anne-Kathrin', 'Uwe',
            'Dörte', 'Jörn', 'Götz', 'Jürgen', 'Ute']
DE_SURNAMES = ['Müller', 'Schröder', 'Krüger', 'Schäfer', 'Köhler', 'Böhm', 'Jäger',
               'Fröhlich', 'Weiß', 'Strauß', 'Großmann', 'Voß', 'Preuß', 'Bäumer',
               'Dürr', 'Göbel', 'Höfer', 'Rößler', 'Schütz', 'Brückner', 'Hübner',
               'Schönfeld', 'Grün', 'Förster', 'Gärtner', 'Jürgens', 'Köster',
               'Möller', 'von Arnim', 'von Bredow', 'von Bülow', 'von Trotha',
               'von der Schulenburg', 'Schmidt-Böhm', 'Meyer-Thölke']

# ---------------------------------------------------------------------------
# FRENCH (France) and FRENCH-CANADIAN
# ---------------------------------------------------------------------------
FR_GIVEN = ['François', 'Françoise', 'Hélène', 'Jérôme', 'Stéphane', 'Frédéric',
            'Céline', 'Élodie', 'Jean-Pierre', 'Marie-Claire', 'Anne-Sophie',
            'Jean-Baptiste', 'Pierre-Louis', 'Marc-Antoine', 'Noël', 'Gaël', 'Anaïs',
            'Loïc', 'Joël', 'Raphaël', 'Thérèse', 'Benoît', 'Clément', 'Aurélie',
            'Sébastien', 'Véronique', 'Agnès', 'Inès', 'Mélanie', 'Léa', 'Chloé',
            'Maëlle', 'Gaëtan', 'Hervé', 'René', 'André', 'Jérémie', 'Cécile',
            'Jean-Luc', 'Marie-Hélène']
FR_SURNAMES = ['Lefèvre', 'Le Goff', 'Le Gall', 'Le Floch', 'de La Fontaine',
               'de Villiers', "d'Arcy", 'Dupré', 'Bérard', 'Rémy', 'Lécuyer',
               'Lévêque', 'Martin-Dubois', 'Boyer-Lafon', 'Saint-Martin',
               'du Plessis', 'Mérieux', 'Thévenin', 'Bréhier', 'Fréchet', 'Géraud',
               'Ménard', 'Béranger', 'Dubœuf', 'Le Bihan', 'Chênevert', 'Hénaff']
CA_GIVEN = ['Marie-Ève', 'Marc-André', 'Jean-François', 'Pier-Luc', 'Émilie',
            'Frédérique', 'Stéphane', 'Sébastien', 'Geneviève', 'Andrée-Anne',
            'Louis-Philippe', 'Josée', 'Hélène', 'Réjean', 'Gaétan', 'Rémi', 'Maxime',
            'Étienne', 'Ève', 'Anne-Marie', 'Jean-Sébastien', 'Marie-Josée', 'Félix',
            'Benoît', 'Nadège']
CA_SURNAMES = ['Côté', 'Gagné', 'Bélanger', 'Lévesque', 'Bérubé', 'Gélinas',
               'Thériault', 'Pépin', 'Lépine', 'Séguin', 'Hébert', 'Ménard', 'Bédard',
               'Paré', 'Boisvert', 'St-Pierre', 'St-Onge', 'Gauthier', 'Ouellet',
               'Lefebvre', "D'Amours", 'Dufresne', 'Bergeron', 'Brisebois',
               'Morissette', 'Caron', 'Pelletier', 'Bouchard', 'Tremblay', 'Gagnon']

# ---------------------------------------------------------------------------
# WESTERN NICKNAMES: (short form, formal given name)
# ---------------------------------------------------------------------------
EN_NICK = [('Bill', 'William'), ('Will', 'William'), ('Billy', 'William'),
           ('Bob', 'Robert'), ('Rob', 'Robert'), ('Bobby', 'Robert'),
           ('Dick', 'Richard'), ('Rick', 'Richard'), ('Rich', 'Richard'),
           ('Liz', 'Elizabeth'), ('Beth', 'Elizabeth'), ('Betsy', 'Elizabeth'),
           ('Kate', 'Katherine'), ('Kathy', 'Katherine'), ('Cathy', 'Catherine'),
           ('Katie', 'Katherine'), ('Jim', 'James'), ('Jimmy', 'James'),
           ('Mike', 'Michael'), ('Tom', 'Thomas'), ('Tommy', 'Thomas'),
           ('Peggy', 'Margaret'), ('Maggie', 'Margaret'), ('Meg', 'Margaret'),
           ('Alex', 'Alexander'), ('Joe', 'Joseph'), ('Charlie', 'Charles'),
           ('Chuck', 'Charles'), ('Ted', 'Edward'), ('Eddie', 'Edward'),
           ('Tony', 'Anthony'), ('Chris', 'Christopher'), ('Dan', 'Daniel'),
           ('Dave', 'David'), ('Matt', 'Matthew'), ('Nick', 'Nicholas'),
           ('Pat', 'Patrick'), ('Steve', 'Steven'), ('Tim', 'Timothy'),
           ('Ben', 'Benjamin'), ('Andy', 'Andrew'), ('Greg', 'Gregory'),
           ('Jenny', 'Jennifer'), ('Becky', 'Rebecca'), ('Sue', 'Susan'),
           ('Patty', 'Patricia'), ('Debbie', 'Deborah'), ('Vicky', 'Victoria'),
           ('Fred', 'Frederick'), ('Larry', 'Lawrence'), ('Ken', 'Kenneth'),
           ('Doug', 'Douglas'), ('Ron', 'Ronald'), ('Don', 'Donald'),
           ('Ray', 'Raymond'), ('Sam', 'Samuel'), ('Nate', 'Nathaniel'),
           ('Zach', 'Zachary'), ('Abby', 'Abigail'), ('Jerry', 'Gerald'),
           ('Trish', 'Patricia')]
DE_NICK = [('Hans', 'Johannes'), ('Fritz', 'Friedrich'), ('Max', 'Maximilian'),
           ('Alex', 'Alexander'), ('Steffi', 'Stefanie'), ('Andi', 'Andreas'),
           ('Kathi', 'Katharina'), ('Sepp', 'Josef'), ('Susi', 'Susanne'),
           ('Willi', 'Wilhelm'), ('Heinz', 'Heinrich'), ('Uli', 'Ulrich'),
           ('Gabi', 'Gabriele'), ('Conny', 'Cornelia'), ('Basti', 'Sebastian'),
           ('Flo', 'Florian'), ('Tobi', 'Tobias'), ('Manni', 'Manfred'),
           ('Rudi', 'Rudolf'), ('Klaus', 'Nikolaus'), ('Jupp', 'Josef')]
NL_NICK = [('Jan', 'Johannes'), ('Kees', 'Cornelis'), ('Henk', 'Hendrik'),
           ('Wim', 'Willem'), ('Piet', 'Petrus'), ('Jaap', 'Jacobus'),
           ('Koos', 'Jacobus'), ('Toon', 'Antonius'), ('Frans', 'Franciscus'),
           ('Klaas', 'Nicolaas'), ('Gert', 'Gerardus'), ('Hanneke', 'Johanna'),
           ('Mieke', 'Maria'), ('Bep', 'Elisabeth'), ('Truus', 'Geertruida'),
           ('Joop', 'Johannes'), ('Ad', 'Adrianus'), ('Arie', 'Adrianus'),
           ('Bram', 'Abraham'), ('Bas', 'Sebastiaan'), ('Thijs', 'Matthijs'),
           ('Guus', 'Augustinus'), ('Lies', 'Elisabeth'), ('Nel', 'Petronella'),
           ('Ria', 'Maria'), ('Sjaak', 'Jacobus'), ('Wim', 'Wilhelmus')]
FR_NICK = [('Alex', 'Alexandre'), ('Nico', 'Nicolas'), ('Fred', 'Frédéric'),
           ('Max', 'Maxime'), ('Cathy', 'Catherine'), ('Isa', 'Isabelle'),
           ('Phil', 'Philippe'), ('Steph', 'Stéphane'), ('Seb', 'Sébastien'),
           ('Manu', 'Emmanuel'), ('Théo', 'Théodore'), ('Caro', 'Caroline'),
           ('Véro', 'Véronique'), ('Margot', 'Marguerite'), ('Tom', 'Thomas'),
           ('Ben', 'Benjamin'), ('Flo', 'Florence'), ('Val', 'Valérie'),
           ('Babette', 'Élisabeth'), ('Chris', 'Christophe')]
US_SURNAMES = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis',
               'Wilson', 'Anderson', 'Taylor', 'Moore', 'Jackson', 'White', 'Harris',
               'Clark', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King',
               'Wright', 'Scott', 'Hill', 'Green', 'Adams', 'Baker', 'Nelson',
               'Carter', 'Mitchell', 'Roberts', 'Turner', 'Phillips', 'Campbell',
               'Parker', 'Evans', 'Edwards', 'Collins', 'Stewart', 'Morris',
               'Murphy', 'Cook', 'Rogers', 'Morgan', 'Cooper', 'Peterson', 'Reed',
               'Bailey', 'Bell', 'Kelly', 'Howard', 'Ward', 'Cox', 'Richardson',
               'Wood', 'Watson', 'Brooks', 'Bennett', 'Gray', 'Hughes', 'Price',
               'Sanders', 'Myers', 'Long', 'Ross', 'Foster']
US_MIDDLE_M = ['James', 'Michael', 'Lee', 'Joseph', 'Edward', 'Allen', 'Thomas', 'Ray', 'Paul']
US_MIDDLE_F = ['Ann', 'Marie', 'Lynn', 'Grace', 'Rose', 'Jean', 'Lee']
FEMALE_FORMAL = {'Elizabeth', 'Katherine', 'Catherine', 'Margaret', 'Jennifer', 'Rebecca',
                 'Susan', 'Patricia', 'Deborah', 'Victoria', 'Abigail', 'Stefanie',
                 'Katharina', 'Susanne', 'Gabriele', 'Cornelia', 'Johanna', 'Maria',
                 'Elisabeth', 'Geertruida', 'Petronella', 'Catherine', 'Isabelle',
                 'Caroline', 'Véronique', 'Marguerite', 'Florence', 'Valérie', 'Élisabeth'}
CA_EN_SURNAMES = ['MacDonald', 'Campbell', 'Stewart', 'Fraser', 'Robertson',
                  'MacKenzie', 'Thompson', 'Wilson', 'Anderson', 'Ross', 'Murray',
                  'Tremblay', 'Roy', 'Gagnon', 'Martin', 'Taylor', 'Brown', 'Smith',
                  'Morrison', 'Graham', 'Chisholm', 'McLeod']
DE_COMMON_SURNAMES = ['Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner',
                      'Becker', 'Schulz', 'Hoffmann', 'Koch', 'Richter', 'Klein',
                      'Wolf', 'Schröder', 'Neumann', 'Schwarz', 'Zimmermann', 'Braun',
                      'Hofmann', 'Hartmann', 'Krüger', 'Huber', 'Lange']
DE_SECOND_M = ['Peter', 'Karl', 'Michael', 'Johannes', 'Georg']
DE_SECOND_F = ['Maria', 'Elisabeth', 'Anna', 'Christine']
NL_COMMON_SURNAMES = ['de Vries', 'Jansen', 'de Jong', 'Bakker', 'Visser', 'Smit',
                      'Meijer', 'de Boer', 'Mulder', 'de Groot', 'Bos', 'Vos',
                      'Peters', 'Hendriks', 'van Leeuwen', 'Dekker', 'Brouwer',
                      'de Wit', 'Dijkstra', 'Smits', 'van Dijk', 'Willems']
NL_BAPTISMAL_M = ['Johannes', 'Hendrikus', 'Petrus', 'Wilhelmus', 'Theodorus', 'Gerardus']
NL_BAPTISMAL_F = ['Maria', 'Cornelia', 'Geertruida', 'Johanna', 'Wilhelmina']
FR_COMMON_SURNAMES = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard',
                      'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent',
                      'Lefèvre', 'Michel', 'David', 'Bertrand', 'Roux', 'Vincent',
                      'Fournier', 'Morel', 'Girard', 'André', 'Mercier']
