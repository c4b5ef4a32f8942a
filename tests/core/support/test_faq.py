from core.demo.faq import DEMO_FAQ
from core.support import service as support
from tests.factories import ADMIN


async def test_shoppers_questions_find_the_fitting_answer(shop):
    async with shop.transaction() as session:
        for question, answer, keywords in DEMO_FAQ:
            await support.add_faq(session=session, question=question, answer=answer,
                                  keywords=keywords, actor=ADMIN)
        asked = {
            "how much does postage cost": "How much is shipping?",
            "can i pay with paypal": "Which payment methods do you accept?",
            "when will my parcel arrive": "How long does delivery take?",
            "i want to send something back": "Can I return something?",
            "do you ship to canada": "Do you ship internationally?",
        }
        for text, question in asked.items():
            entry = await support.best_answer(session=session, text=text)
            assert entry is not None and entry.question == question, text
        assert await support.best_answer(session=session, text="zebra quantum") is None
