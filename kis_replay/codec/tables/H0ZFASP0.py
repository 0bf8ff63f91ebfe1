"""H0ZFASP0: stock futures real-time quote, 10 levels (68 fields).

From the KIS API page [실시간-030] 주식선물 실시간호가.

Field names and order are exactly the page's; the types are ours.
The page declares 0.2 s filtering for futures/options quotes.
"""

from ..spec import TrKind, TrSpec, parse_table, register

FIELDS = parse_table(
    """
FUTS_SHRN_ISCD              code             선물단축종목코드
BSOP_HOUR                   time             영업시간
ASKP1                       price            매도호가1
ASKP2                       price            매도호가2
ASKP3                       price            매도호가3
ASKP4                       price            매도호가4
ASKP5                       price            매도호가5
ASKP6                       price            매도호가6
ASKP7                       price            매도호가7
ASKP8                       price            매도호가8
ASKP9                       price            매도호가9
ASKP10                      price            매도호가10
BIDP1                       price            매수호가1
BIDP2                       price            매수호가2
BIDP3                       price            매수호가3
BIDP4                       price            매수호가4
BIDP5                       price            매수호가5
BIDP6                       price            매수호가6
BIDP7                       price            매수호가7
BIDP8                       price            매수호가8
BIDP9                       price            매수호가9
BIDP10                      price            매수호가10
ASKP_CSNU1                  quantity         매도호가건수1
ASKP_CSNU2                  quantity         매도호가건수2
ASKP_CSNU3                  quantity         매도호가건수3
ASKP_CSNU4                  quantity         매도호가건수4
ASKP_CSNU5                  quantity         매도호가건수5
ASKP_CSNU6                  quantity         매도호가건수6
ASKP_CSNU7                  quantity         매도호가건수7
ASKP_CSNU8                  quantity         매도호가건수8
ASKP_CSNU9                  quantity         매도호가건수9
ASKP_CSNU10                 quantity         매도호가건수10
BIDP_CSNU1                  quantity         매수호가건수1
BIDP_CSNU2                  quantity         매수호가건수2
BIDP_CSNU3                  quantity         매수호가건수3
BIDP_CSNU4                  quantity         매수호가건수4
BIDP_CSNU5                  quantity         매수호가건수5
BIDP_CSNU6                  quantity         매수호가건수6
BIDP_CSNU7                  quantity         매수호가건수7
BIDP_CSNU8                  quantity         매수호가건수8
BIDP_CSNU9                  quantity         매수호가건수9
BIDP_CSNU10                 quantity         매수호가건수10
ASKP_RSQN1                  quantity         매도호가잔량1
ASKP_RSQN2                  quantity         매도호가잔량2
ASKP_RSQN3                  quantity         매도호가잔량3
ASKP_RSQN4                  quantity         매도호가잔량4
ASKP_RSQN5                  quantity         매도호가잔량5
ASKP_RSQN6                  quantity         매도호가잔량6
ASKP_RSQN7                  quantity         매도호가잔량7
ASKP_RSQN8                  quantity         매도호가잔량8
ASKP_RSQN9                  quantity         매도호가잔량9
ASKP_RSQN10                 quantity         매도호가잔량10
BIDP_RSQN1                  quantity         매수호가잔량1
BIDP_RSQN2                  quantity         매수호가잔량2
BIDP_RSQN3                  quantity         매수호가잔량3
BIDP_RSQN4                  quantity         매수호가잔량4
BIDP_RSQN5                  quantity         매수호가잔량5
BIDP_RSQN6                  quantity         매수호가잔량6
BIDP_RSQN7                  quantity         매수호가잔량7
BIDP_RSQN8                  quantity         매수호가잔량8
BIDP_RSQN9                  quantity         매수호가잔량9
BIDP_RSQN10                 quantity         매수호가잔량10
TOTAL_ASKP_CSNU             quantity         총매도호가건수
TOTAL_BIDP_CSNU             quantity         총매수호가건수
TOTAL_ASKP_RSQN             quantity         총매도호가잔량
TOTAL_BIDP_RSQN             quantity         총매수호가잔량
TOTAL_ASKP_RSQN_ICDC        quantity_change  총매도호가잔량증감
TOTAL_BIDP_RSQN_ICDC        quantity_change  총매수호가잔량증감
"""
)

SPEC = register(
    TrSpec(
        tr_id="H0ZFASP0",
        title="stock futures real-time quote, 10 levels",
        kind=TrKind.QUOTE,
        fields=FIELDS,
        filtered=True,
        key_width=(6, 9),
    )
)
